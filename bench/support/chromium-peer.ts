// A WebRtcBin connected to an RTCPeerConnection in headless Chromium, for the
// time-to-connected figure: the browser is what users connect to. The page is
// served from 127.0.0.1 (a secure context); signalling goes through playwright
// (page.evaluate one way, an exposed function the other). Chromium keeps its
// default privacy settings: its host candidates are mDNS names webrtcbin cannot
// resolve, so the pair forms through peer-reflexive candidates, as with real users.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

import type { Page } from 'playwright-core';

import { type DataChannel, PeerConnector, type SessionPayload, WebRtcBin } from '../../lib/index.js';
import { type Chromium, launchChromium } from '../../test/support/chromium.js';

/** The page's side: answers offers, trickles candidates, reports its connection state. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>bench</title><script>
let pc;
window.benchReset = () => {
  pc?.close();
  pc = new RTCPeerConnection({ iceServers: [] });
  pc.onicecandidate = (event) => benchSend({ type: 'ice', candidate: event.candidate ? event.candidate.toJSON() : null });
  pc.onconnectionstatechange = () => benchSend({ type: 'state', state: pc.connectionState });
};
window.benchHandle = async (message) => {
  if (message.type === 'sdp') {
    await pc.setRemoteDescription(message.sdp);
    if (message.sdp.type === 'offer') {
      await pc.setLocalDescription();
      benchSend({ type: 'sdp', sdp: { type: 'answer', sdp: pc.localDescription.sdp } });
    }
  } else if (message.candidate) {
    await pc.addIceCandidate(message.candidate);
  }
};
</script>`;

type PageMessage = SessionPayload | { type: 'state'; state: string };

/** One browser and page, reused for every connection. */
export class ChromiumPeer {
  private connector: PeerConnector | undefined;
  private onState: ((state: string) => void) | undefined;

  private constructor(
    private readonly chromium: Chromium,
    private readonly server: Server,
    private readonly page: Page,
  ) {}

  static async start(): Promise<ChromiumPeer> {
    const server = createServer((_, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    let chromium: Chromium | undefined;
    try {
      chromium = await launchChromium();
      const page = await chromium.context.newPage();
      const peer = new ChromiumPeer(chromium, server, page);
      await page.exposeFunction('benchSend', (message: PageMessage) => peer.fromPage(message));
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      return peer;
    } catch (error) {
      await chromium?.close();
      server.close();
      throw error;
    }
  }

  /**
   * Connects a fresh WebRtcBin (offering one data channel) to a fresh page peer;
   * resolves with the milliseconds from creating the WebRtcBin to both sides
   * connected (the page's state as Node receives it), then closes the WebRtcBin.
   */
  async connectOnce(timeoutMs = 20_000): Promise<number> {
    await this.page.evaluate(() => (window as unknown as { benchReset(): void }).benchReset());
    const started = performance.now();
    const peer = new WebRtcBin();
    try {
      const pageConnected = new Promise<void>((resolve) => (this.onState = (state) => state === 'connected' && resolve()));
      const nodeConnected = new Promise<void>((resolve) => peer.on('connectionstatechange', (state) => state === 'connected' && resolve()));
      const errors: Error[] = [];
      this.connector = new PeerConnector(peer, {
        role: 'offerer',
        send: (message) => void this.page.evaluate((m) => (window as unknown as { benchHandle(m: unknown): Promise<void> }).benchHandle(m), message).catch((error: Error) => errors.push(error)),
      });
      this.connector.on('error', (error) => errors.push(error));
      const channel: DataChannel = peer.createDataChannel('bench');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([pageConnected, nodeConnected]),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no connection to Chromium after ${timeoutMs} ms${errors.length > 0 ? `: ${errors[0].message}` : ''}`)), timeoutMs))),
      ]).finally(() => clearTimeout(timer));
      const ms = performance.now() - started;
      channel.close();
      return ms;
    } finally {
      this.connector?.close();
      this.connector = undefined;
      peer.close();
    }
  }

  async close(): Promise<void> {
    await this.chromium.close();
    this.server.close();
  }

  private fromPage(message: PageMessage): void {
    if (message.type === 'state') this.onState?.(message.state);
    else void this.connector?.handle(message);
  }
}
