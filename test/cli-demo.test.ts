// `gst-webrtc-node demo` with every documented flag, each checked by its effect: what the page
// decodes (--source, --audio-source), what GStreamer writes from the browser (--video-sink,
// --audio-sink), the page's configuration and GStreamer's TURN traffic (--stun, --turn), https and
// wss with a certificate generated for the test (--cert, --key), every interface (--host 0.0.0.0).
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SignallingClient, type SessionDescription } from '../lib/index.js';
import { generateCertificate } from './support/certificate.js';
import { allowCamera, type Chromium, launchChromium } from './support/chromium.js';
import { type CliProcess, runCli, startCli } from './support/cli.js';
import { nextEvent, until } from './support/wait.js';

const OPEN = /open (https?:\S+) in a browser/;
let directory: string;
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'gst-webrtc-node-demo-cli-'));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** A TCP listener on 127.0.0.1 standing in for a TURN server: it counts the TURN Allocate requests that reach it. */
async function turnListener(): Promise<{ port: number; allocations: () => number; close(): void }> {
  let allocations = 0;
  const server: Server = createServer((socket) => {
    socket.on('data', (data) => {
      if (data.length >= 20 && data.readUInt16BE(0) === 0x0003 && data.readUInt32BE(4) === 0x2112a442) allocations++;
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, allocations: () => allocations, close: () => server.close() };
}

/** This machine's first non-loopback IPv4 address (traffic to it stays on the machine). */
function ownAddress(): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry !== undefined && entry.family === 'IPv4' && !entry.internal && !entry.address.startsWith('198.1'));
  if (address === undefined) throw new Error('this machine has no non-loopback IPv4 address');
  return address!.address;
}

/** The page's inbound streams from its own getStats(). */
function inbound(page: Page): Promise<{ kind: string; framesDecoded?: number; frameWidth?: number; frameHeight?: number; packetsReceived: number }[]> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { demo?: { pc?: RTCPeerConnection } }).demo?.pc;
    const found: { kind: string; framesDecoded?: number; frameWidth?: number; frameHeight?: number; packetsReceived: number }[] = [];
    (await pc?.getStats())?.forEach((stats) => {
      if (stats.type === 'inbound-rtp') found.push({ kind: stats.kind, framesDecoded: stats.framesDecoded, frameWidth: stats.frameWidth, frameHeight: stats.frameHeight, packetsReceived: stats.packetsReceived });
    });
    return found;
  });
}

const fileSize = (path: string) => (existsSync(path) ? statSync(path).size : 0);

describe('gst-webrtc-node demo', () => {
  it('--help lists every documented flag; bad flags are usage errors', async () => {
    const help = await runCli(['demo', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--port', '--host', '--source', '--audio-source', '--video-sink', '--audio-sink', '--stun', '--turn', '--cert', '--key']) expect(help.output).toContain(flag);
    const stun = await runCli(['demo', '--stun', 'turn:127.0.0.1']);
    expect([stun.code, stun.errors]).toEqual([2, expect.stringMatching(/invalid --stun "turn:127\.0\.0\.1"/)]);
    const turn = await runCli(['demo', '--turn', 'turn:user:secret@']);
    expect(turn.code).toBe(2);
    expect(turn.errors).toMatch(/invalid --turn/);
    expect(turn.errors).not.toContain('secret');
    // The sources are checked when the demo starts.
    const source = await runCli(['demo', '--port', '0', '--source', 'no-such-element-here']);
    expect(source.code).toBe(1);
    expect(source.errors).toMatch(/no-such-element-here/);
  });

  describe('--host 0.0.0.0 with a source, an audio source, sinks, STUN and two TURN servers', () => {
    let demo: CliProcess;
    let url: string;
    let chromium: Chromium | undefined;
    const turn: Awaited<ReturnType<typeof turnListener>>[] = [];
    const video = () => join(directory, 'camera.raw');
    const audio = () => join(directory, 'microphone.raw');

    beforeAll(async () => {
      turn.push(await turnListener(), await turnListener());
      // prettier-ignore
      demo = startCli([
        'demo', '--port', '0', '--host', '0.0.0.0',
        '--source', 'videotestsrc is-live=true pattern=ball ! video/x-raw,width=176,height=144,framerate=30/1',
        '--audio-source', 'audiotestsrc is-live=true wave=sine',
        '--video-sink', `filesink location=${video()}`, '--audio-sink', `filesink location=${audio()}`,
        '--stun', 'stun:127.0.0.1:3478',
        '--turn', `turn:alice:p%40ss@127.0.0.1:${turn[0].port}?transport=tcp`, '--turn', `turns:bob:word@127.0.0.1:${turn[1].port}`,
      ]);
      const [line, launched] = await Promise.all([demo.line(OPEN), launchChromium()]);
      url = OPEN.exec(line)![1];
      chromium = launched;
    }, 30_000);
    afterAll(async () => {
      await chromium?.close();
      await demo?.stop();
      for (const listener of turn) listener.close();
    });

    it("gives the page the STUN and TURN servers, with the TURN credentials decoded", async () => {
      const config = (await (await fetch(new URL('config.json', url))).json()) as { iceServers: unknown[] };
      expect(config.iceServers).toEqual([
        { urls: 'stun:127.0.0.1:3478' },
        { urls: `turn:127.0.0.1:${turn[0].port}?transport=tcp`, username: 'alice', credential: 'p@ss' },
        { urls: `turns:127.0.0.1:${turn[1].port}`, username: 'bob', credential: 'word' },
      ]);
      expect(demo.output.some((line) => line.includes(`stun:127.0.0.1:3478, turn:127.0.0.1:${turn[0].port}?transport=tcp, turns:127.0.0.1:${turn[1].port}`))).toBe(true);
    });

    it('listens on every interface: reachable on this machine\'s own address, and prints a URL per interface', async () => {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const port = new URL(url).port;
      const address = ownAddress();
      expect(demo.output).toContain(`  from other machines: http://${address}:${port}/`);
      const page = await fetch(`http://${address}:${port}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
    });

    it('sends --source and --audio-source to the page, and writes what the page sends to --video-sink and --audio-sink', async () => {
      const page = await chromium!.context.newPage();
      await page.goto(url);
      await until(async () => (await inbound(page)).some((s) => s.kind === 'video' && (s.framesDecoded ?? 0) >= 30), 'the page decodes GStreamer video', 20_000, 100);
      const streams = await inbound(page);
      expect(streams.find((s) => s.kind === 'video')).toMatchObject({ frameWidth: 176, frameHeight: 144 });
      await until(async () => (await inbound(page)).some((s) => s.kind === 'audio' && s.packetsReceived > 20), 'the page receives the audio source');

      await allowCamera(chromium!.context, new URL(url).origin);
      await page.click('#camera');
      const [videoBytes, audioBytes] = [fileSize(video()), fileSize(audio())];
      await until(() => fileSize(video()) > videoBytes + 100_000 && fileSize(audio()) > audioBytes + 10_000, 'the camera and microphone are written to the sinks');
      await page.close();
    }, 40_000);

    it("GStreamer's side uses both TURN servers; SIGTERM ends the sessions and exits 0", async () => {
      // No browser now: a viewer that only signals. GStreamer gathers candidates for its offer.
      const before = turn.map((listener) => listener.allocations());
      const viewer = new SignallingClient();
      await viewer.connect(url.replace('http:', 'ws:') + 'signalling', { role: 'viewer' });
      // If no session comes, the demo's last words say why.
      await nextEvent(viewer, 'session').catch((error: Error) => {
        throw new Error(`${error.message}; the demo's stdout ends:\n${demo.output.slice(-20).join('\n')}\nits stderr ends:\n${demo.errors.slice(-40).join('\n')}`);
      });
      await until(() => turn.every((listener, i) => listener.allocations() > before[i]), "GStreamer's webrtcbin sends TURN Allocate requests to both servers");
      const ended = nextEvent(viewer, 'sessionended');
      const closed = nextEvent<[number]>(viewer, 'close');
      expect(await demo.stop()).toBe(0);
      await ended;
      expect((await closed)[0]).toBe(1001);
      expect(demo.output.some((line) => /SIGTERM: shutting down/.test(line))).toBe(true);
      await viewer.close();
    });
  });

  it('--cert/--key serve https and wss (127.0.0.1 only by default); --audio-source none offers video only', async () => {
    const { certPath, keyPath } = generateCertificate(directory, ['127.0.0.1', 'localhost'], 'demo');
    const demo = startCli(['demo', '--port', '0', '--cert', certPath, '--key', keyPath, '--audio-source', 'none']);
    try {
      const url = OPEN.exec(await demo.line(OPEN))![1];
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
      const ca = readFileSync(certPath);
      const body = await new Promise<string>((resolve, reject) => {
        httpsGet(url, { ca }, (response) => {
          let text = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(text));
        }).on('error', reject);
      });
      expect(body).toMatch(/<html/i);
      // wss on the same port: a viewer is offered GStreamer's media, here video without audio.
      const viewer = new SignallingClient();
      const offer = new Promise<SessionDescription>((resolve) => viewer.on('sdp', (_session, description) => resolve(description)));
      await viewer.connect(url.replace('https:', 'wss:') + 'signalling', { role: 'viewer', ca });
      const { sdp } = await offer;
      expect(sdp).toMatch(/\r\nm=video /);
      expect(sdp).not.toMatch(/\r\nm=audio /);
      await viewer.close();
      // Bound to 127.0.0.1: not reachable on this machine's other addresses.
      const elsewhere = await fetch(`https://${ownAddress()}:${new URL(url).port}/`).then(() => 'reached', (error: { cause?: { code?: string } }) => error.cause?.code);
      expect(elsewhere).toBe('ECONNREFUSED');
    } finally {
      expect(await demo.stop()).toBe(0);
    }
  });
});
