// RtspBridge against a real RTSP server (gst-rtsp-server, test/support/rtsp-server.c)
// on 127.0.0.1: H.264 passed through to WebRtcBin viewers, reconnection when the
// server goes away and comes back, and errors that name the URL.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import { RtspBridge, RtspError } from '../lib/index.js';
import { receive, type Receiver } from './support/receiver.js';
import { startRtspServer, type RtspServer } from './support/rtsp-server.js';
import { nextEvent, until } from './support/wait.js';
import { nativePipeline } from '../lib/core/pipeline-handle.js';

const open: { close(): void }[] = [];
const servers: RtspServer[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) thing.close();
  for (const server of servers.splice(0)) await server.stop();
});

async function rtspServer(): Promise<RtspServer> {
  const server = await startRtspServer();
  servers.push(server);
  return server;
}

function bridge(options: ConstructorParameters<typeof RtspBridge>[0]): RtspBridge {
  const created = new RtspBridge(options);
  open.push(created);
  return created;
}

async function watch(bridged: RtspBridge): Promise<Receiver> {
  const receiver = await receive(bridged.addViewer());
  open.push(receiver);
  return receiver;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Elements that would mean the video is decoded or encoded again. */
const TRANSCODERS = ['x264enc', 'openh264enc', 'vp8enc', 'vp9enc', 'avdec_h264', 'openh264dec', 'vp8dec', 'decodebin', 'decodebin3', 'videoconvert'];

describe('RtspBridge', () => {
  it('passes an RTSP camera\'s H.264 to two viewers without decoding or encoding it', async () => {
    const server = await rtspServer();
    const bridged = bridge({ url: server.url });
    await bridged.start();
    expect(bridged.state).toBe('streaming');
    const viewers = [await watch(bridged), await watch(bridged)];
    await until(() => viewers.every((v) => v.videoFrames >= 15), 'both viewers decode the camera');

    const native = nativePipeline(bridged.fanOut.pipeline);
    for (const factory of TRANSCODERS) expect(native.elementsByFactory(factory), factory).toHaveLength(0);
    expect(native.elementsByFactory('rtspsrc')).toHaveLength(1);
    expect(native.elementsByFactory('rtph264depay')).toHaveLength(1);
    expect(native.elementsByFactory('rtph264pay')).toHaveLength(2); // one per viewer: own SSRC and sequence numbers
    for (const viewer of viewers) expect(viewer.tracks.map((t) => t.encodingName)).toEqual(['H264']);
    // The default transport: RTP interleaved in the RTSP connection.
    expect(server.setups.length).toBeGreaterThan(0);
    expect(server.setups.every((transport) => transport.startsWith('RTP/AVP/TCP;'))).toBe(true);
  });

  it.each([
    ['udp', (transport: string) => /^RTP\/AVP;unicast;client_port=/.test(transport)],
    // rtspsrc tries UDP first and falls back to TCP only when UDP fails.
    ['auto', (transport: string) => /^RTP\/AVP;unicast;client_port=/.test(transport)],
  ] as const)('asks the camera for transport %s, and the viewer decodes', async (transport, expected) => {
    const server = await rtspServer();
    const bridged = bridge({ url: server.url, transport });
    await bridged.start();
    const viewer = await watch(bridged);
    await until(() => viewer.videoFrames >= 15, 'the viewer decodes the camera');
    expect(server.setups.length).toBeGreaterThan(0);
    expect(server.setups.filter((setup) => !expected(setup))).toEqual([]);
  });

  it('reconnects when frames stop while the connection stays up (a frozen camera)', async () => {
    const server = await rtspServer();
    const bridged = bridge({ url: server.url, reconnectDelay: 200, maxReconnectDelay: 500, stallTimeout: 1000, startTimeout: 2000 });
    await bridged.start();
    const viewer = await watch(bridged);
    await until(() => viewer.videoFrames >= 15, 'the viewer decodes the camera');
    const reasons: RtspError[] = [];
    bridged.on('reconnecting', (_attempt, _delay, reason) => reasons.push(reason));
    server.freeze();
    try {
      await until(() => reasons.length > 0, 'the bridge notices that frames stopped');
    } finally {
      server.thaw();
    }
    expect(reasons[0].message).toBe(`RTSP source ${server.url}: no video for 1000 ms`);
    await until(() => bridged.state === 'streaming', 'the bridge streams again after the camera thawed', 20_000);
    const frames = viewer.videoFrames;
    await until(() => viewer.videoFrames >= frames + 15, 'the viewer decodes again');
  }, 40_000);

  it('names refused credentials (401), and streams with the right ones', async () => {
    const server = await startRtspServer({ credentials: 'admin:secret' });
    servers.push(server);
    const wrongUrl = server.url.replace('rtsp://', 'rtsp://admin:wrong@');
    const error = await bridge({ url: wrongUrl }).start().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(RtspError);
    expect((error as RtspError).message).toBe(`RTSP source ${server.url.replace('rtsp://', 'rtsp://admin:***@')}: the camera refused the credentials (401 Unauthorized)`);
    const bridged = bridge({ url: server.url.replace('rtsp://', 'rtsp://admin:secret@') });
    await bridged.start();
    const viewer = await watch(bridged);
    await until(() => viewer.videoFrames >= 15, 'the viewer decodes the camera');
  });

  it('rejects start() for a stream that is not H.264', async () => {
    const server = await startRtspServer({
      description: '( videotestsrc is-live=true ! video/x-raw,width=160,height=120 ! vp8enc deadline=1 ! rtpvp8pay name=pay0 pt=96 )',
    });
    servers.push(server);
    const error = await bridge({ url: server.url }).start().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(RtspError);
    expect((error as RtspError).message).toMatch(new RegExp(`^RTSP source ${server.url}: the stream is not H\\.264 video`));
  });

  it('rejects start() when an H.264 stream sends no frame, naming the time it waited', async () => {
    // The stream is announced as H.264 (its caps pass the valve) but no buffer ever does.
    const server = await startRtspServer({
      description:
        '( videotestsrc is-live=true ! video/x-raw,width=160,height=120 ! x264enc tune=zerolatency ! video/x-h264,profile=constrained-baseline ! ' +
        'valve drop=true drop-mode=forward-sticky-events ! rtph264pay name=pay0 pt=96 )',
    });
    servers.push(server);
    const error = await bridge({ url: server.url, startTimeout: 1500 }).start().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(RtspError);
    expect((error as RtspError).message).toBe(`RTSP source ${server.url}: no H.264 video within 1500 ms (is the stream H.264?)`);
  });

  it('reconnects when the RTSP server goes away and comes back; the viewers stay connected and resume', async () => {
    const server = await rtspServer();
    const bridged = bridge({ url: server.url, reconnectDelay: 200, maxReconnectDelay: 1000, stallTimeout: 2000 });
    await bridged.start();
    const viewers = [await watch(bridged), await watch(bridged)];
    await until(() => viewers.every((v) => v.videoFrames >= 15), 'both viewers decode the camera');

    // Collected here, asserted below: the library's emitter turns a listener's exception into a warning.
    const attempts: { attempt: number; reason: unknown }[] = [];
    bridged.on('reconnecting', (attempt, _delay, reason) => attempts.push({ attempt, reason }));
    const dropped = nextEvent(bridged, 'reconnecting');
    await server.stop();
    await dropped;
    expect(bridged.state).toBe('reconnecting');
    // While the server is down, attempts fail and back off; the viewers' connections stay up.
    await until(() => attempts.length >= 2, 'a second attempt failed while the server was down', 15_000);
    for (const viewer of bridged.viewers) expect(viewer.connectionState).toBe('connected');
    expect(attempts.map((a) => a.attempt).slice(0, 2)).toEqual([1, 2]);
    for (const { reason } of attempts) {
      expect(reason).toBeInstanceOf(RtspError);
      expect((reason as RtspError).url).toBe(server.url);
    }

    const frames = viewers.map((v) => v.videoFrames);
    const reconnected = nextEvent(bridged, 'reconnected', () => true, 20_000);
    await server.restart();
    await reconnected;
    expect(bridged.state).toBe('streaming');
    await until(() => viewers.every((v, i) => v.videoFrames >= frames[i] + 15), 'both viewers decode the camera again');
    expect(bridged.viewers).toHaveLength(2);
    for (const viewer of bridged.viewers) expect(viewer.connectionState).toBe('connected');
    expect(nativePipeline(bridged.fanOut.pipeline).elementsByFactory('rtspsrc')).toHaveLength(1);
  }, 60_000);

  it('rejects start() with an RtspError naming an unreachable URL, without its password', async () => {
    const port = await closedPort();
    const bridged = bridge({ url: `rtsp://admin:secret@127.0.0.1:${port}/camera` });
    const error = await bridged.start().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(RtspError);
    expect((error as RtspError).message).toContain(`rtsp://admin:***@127.0.0.1:${port}/camera`);
    expect((error as RtspError).message).toMatch(/cannot connect/);
    expect((error as RtspError).message).not.toContain('secret');
    expect(bridged.state).toBe('closed');
  });

  it('rejects start() when the server has no stream at that path', async () => {
    const server = await rtspServer();
    const url = server.url.replace(/\/camera$/, '/no-such-camera');
    const error = await bridge({ url }).start().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(RtspError);
    expect((error as RtspError).message).toBe(`RTSP source ${url}: the camera has no stream at this path (404 Not Found)`);
  });

  it('refuses what is not an RTSP URL, naming it', () => {
    expect(() => new RtspBridge({ url: 'http://127.0.0.1/camera' })).toThrow(/not an RTSP URL.*http:\/\/127\.0\.0\.1\/camera/);
    expect(() => new RtspBridge({ url: 'camera' })).toThrow(/not a valid RTSP URL: "camera"/);
    expect(() => new RtspBridge({ url: 'rtsp://u:pw@/x' })).toThrow(TypeError);
    expect(() => new RtspBridge({ url: 'rtsp://127.0.0.1/x', transport: 'carrier-pigeon' as 'tcp' })).toThrow(/transport/);
  });
});
