// Peers on either side of a shaped link (shaped-link.ts): headless Chromium
// (inside the link's namespace through its wrapper executable, or on the host
// side) and a WebRtcBin in a child Node process inside the namespace. Every peer
// speaks PeerConnector's messages ({type:'sdp'|'ice'}), so any two can be wired
// with wirePeers(), and a WebRtcBin in this process through a PeerConnector.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import type { Page } from 'playwright-core';

import type { RtcStatsReport, SessionPayload } from '../../lib/index.js';
import { type Chromium, launchChromium } from './chromium.js';
import type { ShapedLink } from './shaped-link.js';

/** Anything that exchanges PeerConnector messages. */
export interface SignallingPeer {
  /** Set by whoever wires this peer: where its messages go. */
  onSignal: (message: SessionPayload) => void;
  handle(message: SessionPayload): Promise<void>;
}

/** Sends each peer's messages to the other. */
export function wirePeers(a: SignallingPeer, b: SignallingPeer, errors: Error[] = []): void {
  a.onSignal = (message) => void b.handle(message).catch((error: Error) => errors.push(error));
  b.onSignal = (message) => void a.handle(message).catch((error: Error) => errors.push(error));
}

/** The numbers a browser peer reports (W3C stats names, summed over its video streams). */
export interface BrowserStats {
  connectionState: string;
  framesEncoded: number;
  framesSent: number;
  packetsSent: number;
  bytesSent: number;
  retransmittedPacketsSent: number;
  nackCount: number;
  targetBitrate: number;
  /** The sender's estimate of the link (candidate pair), bit/s; 0 when absent. */
  availableOutgoingBitrate: number;
  framesDecoded: number;
  packetsReceived: number;
  packetsLost: number;
  bytesReceived: number;
  freezeCount: number;
  totalFreezesDuration: number;
  frameWidth: number;
}

// The page: an RTCPeerConnection that sends the fake camera (640x480 at 30 fps) or
// receives and stamps every decoded frame (MediaStreamTrackProcessor: each frame
// the decoder hands on, rendered or not), with the epoch clock Node also reads.
const PAGE = `<!doctype html><meta charset="utf-8"><title>shaped link peer</title><script>
let pc, sender;
const frameTimes = [];
const now = () => performance.timeOrigin + performance.now();
window.peerStart = async (role) => {
  pc = new RTCPeerConnection({ iceServers: [] });
  pc.onicecandidate = (event) => event.candidate && peerSignal({ type: 'ice', candidate: event.candidate.toJSON() });
  if (role === 'send') {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, frameRate: 30 } });
    sender = pc.addTrack(stream.getVideoTracks()[0], stream);
  } else {
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.ontrack = async (event) => {
      const reader = new MediaStreamTrackProcessor({ track: event.track }).readable.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        frameTimes.push(now());
        value.close();
      }
    };
  }
};
window.peerOffer = async () => {
  await pc.setLocalDescription();
  peerSignal({ type: 'sdp', sdp: { type: 'offer', sdp: pc.localDescription.sdp } });
};
window.peerHandle = async (message) => {
  if (message.type === 'sdp') {
    await pc.setRemoteDescription(message.sdp);
    if (message.sdp.type === 'offer') {
      await pc.setLocalDescription();
      peerSignal({ type: 'sdp', sdp: { type: 'answer', sdp: pc.localDescription.sdp } });
    }
  } else if (message.candidate) {
    await pc.addIceCandidate(message.candidate);
  }
};
window.peerStopSending = () => sender.track.stop();
window.peerFrameTimes = () => frameTimes.slice();
window.peerStats = async () => {
  const sum = { connectionState: pc.connectionState };
  const fields = ['framesEncoded', 'framesSent', 'packetsSent', 'bytesSent', 'retransmittedPacketsSent', 'nackCount', 'targetBitrate',
    'availableOutgoingBitrate', 'framesDecoded', 'packetsReceived', 'packetsLost', 'bytesReceived', 'freezeCount', 'totalFreezesDuration', 'frameWidth'];
  for (const field of fields) sum[field] = 0;
  (await pc.getStats()).forEach((stats) => {
    if (stats.type === 'candidate-pair' && stats.nominated && stats.state === 'succeeded') {
      sum.availableOutgoingBitrate += stats.availableOutgoingBitrate ?? 0;
    } else if ((stats.type === 'outbound-rtp' || stats.type === 'inbound-rtp') && stats.kind === 'video') {
      for (const field of fields) if (typeof stats[field] === 'number') sum[field] += stats[field];
    }
  });
  return sum;
};
</script>`;

/** The functions PAGE defines (page.evaluate sends a function's text to the page: it can name only what is there). */
interface PeerWindow {
  peerStart(role: 'send' | 'receive'): Promise<void>;
  peerOffer(): Promise<void>;
  peerHandle(message: SessionPayload): Promise<void>;
  peerStopSending(): void;
  peerFrameTimes(): number[];
  peerStats(): Promise<BrowserStats>;
}

/** An RTCPeerConnection in a page of a LinkBrowser. */
export class BrowserPeer implements SignallingPeer {
  onSignal: (message: SessionPayload) => void = () => undefined;

  constructor(readonly page: Page) {}

  /** Sends the fake camera (`send`) or receives one video (`receive`). */
  async start(role: 'send' | 'receive'): Promise<void> {
    await this.page.evaluate((r) => (window as unknown as PeerWindow).peerStart(r), role);
  }

  /** Makes the offer; the answer comes back through handle(). */
  async offer(): Promise<void> {
    await this.page.evaluate(() => (window as unknown as PeerWindow).peerOffer());
  }

  async handle(message: SessionPayload): Promise<void> {
    await this.page.evaluate((m) => (window as unknown as PeerWindow).peerHandle(m), message);
  }

  stats(): Promise<BrowserStats> {
    return this.page.evaluate(() => (window as unknown as PeerWindow).peerStats());
  }

  /** Epoch milliseconds of every frame decoded so far (receiving peers). */
  frameTimes(): Promise<number[]> {
    return this.page.evaluate(() => (window as unknown as PeerWindow).peerFrameTimes());
  }

  /** Stops the camera: no frame is encoded after this. */
  async stopSending(): Promise<void> {
    await this.page.evaluate(() => (window as unknown as PeerWindow).peerStopSending());
  }

  async close(): Promise<void> {
    await this.page.close().catch(() => undefined);
  }
}

/** Headless Chromium with a 30 fps fake camera, on the host side or inside a link's namespace. */
export class LinkBrowser {
  private constructor(private readonly chromium: Chromium) {}

  /** Inside `link`'s namespace when given one, else on this (the host) side. */
  static async launch(link?: ShapedLink): Promise<LinkBrowser> {
    const chromium = await launchChromium({
      executablePath: link?.chromiumExecutable,
      args: ['--use-fake-device-for-media-stream=fps=30'],
    });
    // Pages come from here, not from a server: the namespace's Chromium reaches nothing on this side but the link.
    // http://localhost is a secure context (getUserMedia works there).
    await chromium.context.route('http://localhost/**', (route) => route.fulfill({ contentType: 'text/html', body: PAGE }));
    await chromium.context.grantPermissions(['camera'], { origin: 'http://localhost' });
    return new LinkBrowser(chromium);
  }

  /** A fresh page with its peer (expose its messages through `onSignal`). */
  async newPeer(): Promise<BrowserPeer> {
    const page = await this.chromium.context.newPage();
    const peer = new BrowserPeer(page);
    await page.exposeFunction('peerSignal', (message: SessionPayload) => peer.onSignal(message));
    await page.goto('http://localhost/peer');
    return peer;
  }

  async close(): Promise<void> {
    await this.chromium.close();
  }
}

/** A WebRtcBin in a child process inside a link's namespace (shaped-link-peer.cjs). */
export class NamespacePeer implements SignallingPeer {
  onSignal: (message: SessionPayload) => void = () => undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private stderr = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4000)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      let message: { id?: number; result?: unknown; error?: string; signal?: SessionPayload };
      try {
        message = JSON.parse(line);
      } catch {
        return; // GStreamer or Node printed something of its own
      }
      if (message.signal !== undefined) return this.onSignal(message.signal);
      const call = this.pending.get(message.id ?? -1);
      this.pending.delete(message.id ?? -1);
      if (message.error !== undefined) call?.reject(new Error(message.error));
      else call?.resolve(message.result);
    });
    child.on('exit', (code, signal) => {
      for (const call of this.pending.values()) call.reject(new Error(`the namespace peer exited (${signal ?? code}): ${this.stderr}`));
      this.pending.clear();
    });
  }

  static start(link: ShapedLink): NamespacePeer {
    const child = link.namespace.spawn(process.execPath, [join(__dirname, 'shaped-link-peer.cjs')], { stdio: ['pipe', 'pipe', 'pipe'] }) as ChildProcessWithoutNullStreams;
    return new NamespacePeer(child);
  }

  /** Makes a WebRtcBin that sends `source` (a description ending in a payloader) and offers. */
  send(source: string, options: Record<string, unknown> = {}): Promise<void> {
    return this.call('send', { source, options }) as Promise<void>;
  }

  /** Sets a property of a named element of its pipeline. */
  set(element: string, property: string, value: unknown): Promise<void> {
    return this.call('set', { element, property, value }) as Promise<void>;
  }

  /** A property of a named element of its pipeline (null when there is no such element). */
  get(element: string, property: string): Promise<unknown> {
    return this.call('get', { element, property });
  }

  /** Buffers a named sink of its pipeline has rendered. */
  rendered(element: string): Promise<number> {
    return this.call('rendered', { element }) as Promise<number>;
  }

  stats(): Promise<RtcStatsReport> {
    return this.call('stats', {}) as Promise<RtcStatsReport>;
  }

  async handle(message: SessionPayload): Promise<void> {
    this.child.stdin.write(`${JSON.stringify({ signal: message })}\n`);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  private call(name: string, fields: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(`${JSON.stringify({ id, call: name, ...fields })}\n`);
    });
  }
}
