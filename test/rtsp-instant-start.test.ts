// Instant start for RTSP passthrough (issue 13): the bridge keeps the camera's
// current group of pictures (its last keyframe and what followed) and replays it
// to a viewer as soon as the viewer connects, without decoding or encoding, so a
// camera with keyframes 10 s apart still starts at once. Against a real
// gst-rtsp-server camera (test/support/rtsp-server.c).
import { afterEach, describe, expect, it } from 'vitest';

import { PeerConnector, RtspBridge, type GopCacheStats } from '../lib/index.js';
import { createReceiver, type Receiver } from './support/receiver.js';
import { CAMERA_LAUNCH, startRtspServer, type RtspServer } from './support/rtsp-server.js';
import { until } from './support/wait.js';

/** A camera whose keyframes are 10 s apart (150 frames at 15 fps), as many IP cameras send. */
const TEN_SECOND_GOP_CAMERA = CAMERA_LAUNCH.replace('key-int-max=15', 'key-int-max=150');

const open: { close(): void }[] = [];
const servers: RtspServer[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) thing.close();
  for (const server of servers.splice(0)) await server.stop();
});

async function camera(description: string): Promise<RtspServer> {
  const server = await startRtspServer({ description });
  servers.push(server);
  return server;
}

async function startedBridge(options: ConstructorParameters<typeof RtspBridge>[0]): Promise<RtspBridge> {
  const bridge = new RtspBridge(options);
  open.push(bridge);
  await bridge.start();
  return bridge;
}

/** Times, from performance.now(), of both peers reaching 'connected' and of the first decoded frame. */
interface JoinTimes {
  receiver: Receiver;
  connected: number;
  firstFrame: Promise<number>;
}

/** A viewer joins: its 'connected' (the earlier of the two peers') and its first decoded frame, timed. */
async function join(bridge: RtspBridge): Promise<JoinTimes> {
  const viewer = bridge.addViewer();
  const receiver = createReceiver();
  open.push(receiver);
  const connectedAt: number[] = [];
  for (const peer of [viewer, receiver.webrtcbin]) {
    peer.on('connectionstatechange', (state) => {
      if (state === 'connected') connectedAt.push(performance.now());
    });
  }
  // Polled every 2 ms from the moment negotiation starts: the poll, not the library, bounds the resolution.
  const firstFrame = (async () => {
    await until(() => receiver.videoFrames > 0, 'the viewer decodes its first frame', 20_000, 2);
    return performance.now();
  })();
  await PeerConnector.pair(viewer, receiver.webrtcbin);
  await until(() => connectedAt.length > 0, 'a peer reaches connected');
  return { receiver, connected: Math.min(...connectedAt), firstFrame };
}

describe('RtspBridge instant start (GOP cache)', () => {
  it('a viewer joining mid-group decodes within 300 ms of connected, from the cached keyframe, then plays live', async () => {
    const server = await camera(TEN_SECOND_GOP_CAMERA);
    const bridge = await startedBridge({ url: server.url });
    // Join about a second into the camera's 10 s group, so that its next keyframe is far away.
    await until(() => (bridge.gopCache?.frames ?? 0) >= 15, 'the bridge has cached a second of the group');
    const before = bridge.gopCache!;
    const { receiver, connected, firstFrame } = await join(bridge);
    const decodedAt = await firstFrame;
    const after = bridge.gopCache!;
    const delay = decodedAt - connected;
    console.log(`instant start: first frame ${delay.toFixed(1)} ms after connected; cache ${before.frames} frames / ${before.bytes} bytes when the viewer joined`);
    // No new keyframe came from the camera meanwhile: the frame was decoded from the cached one.
    expect(after.keyframes).toBe(before.keyframes);
    expect(after.replays).toBeGreaterThanOrEqual(1);
    expect(delay).toBeLessThanOrEqual(300);
    // Then the live stream follows the replayed group without a break in decoding.
    const frames = receiver.videoFrames;
    await until(() => receiver.videoFrames >= frames + 15, 'the viewer keeps decoding the live stream');
    expect(bridge.gopCache!.keyframes).toBe(before.keyframes);
  }, 40_000);

  it('keeps one group at a time: each keyframe drops the group before it, and bytes stay under the limit', async () => {
    const server = await camera(CAMERA_LAUNCH); // a keyframe every 15 frames
    const bridge = await startedBridge({ url: server.url, gopCacheBytes: 1024 * 1024 });
    const samples: GopCacheStats[] = [];
    const first = bridge.gopCache!.keyframes;
    await until(() => {
      samples.push(bridge.gopCache!);
      return samples.at(-1)!.keyframes >= first + 3;
    }, 'three keyframes pass', 20_000, 10);
    expect(Math.max(...samples.map((sample) => sample.bytes))).toBeLessThanOrEqual(1024 * 1024);
    expect(Math.max(...samples.map((sample) => sample.frames))).toBeLessThanOrEqual(15 + 2);
    // The count fell back at a keyframe at least once (the old group went).
    expect(samples.some((sample, index) => index > 0 && sample.frames < samples[index - 1].frames)).toBe(true);
  }, 30_000);

  it('drops a group that outgrows gopCacheBytes, keeps nothing above it, and viewers still start at the next keyframe', async () => {
    const server = await camera(CAMERA_LAUNCH);
    const limit = 2048; // smaller than one keyframe of this camera
    const bridge = await startedBridge({ url: server.url, gopCacheBytes: limit });
    const samples: GopCacheStats[] = [];
    await until(() => {
      samples.push(bridge.gopCache!);
      return samples.at(-1)!.overflows >= 2;
    }, 'the cache overflows twice', 20_000, 10);
    expect(Math.max(...samples.map((sample) => sample.bytes))).toBeLessThanOrEqual(limit);
    const { receiver } = await join(bridge);
    await until(() => receiver.videoFrames >= 15, 'the viewer decodes the camera');
  }, 30_000);

  it('with gopCacheBytes 0 keeps nothing', async () => {
    expect(() => new RtspBridge({ url: 'rtsp://127.0.0.1:1/x', gopCacheBytes: -1 })).toThrow(TypeError);
    const bridge = new RtspBridge({ url: 'rtsp://127.0.0.1:1/x', gopCacheBytes: 0 });
    open.push(bridge);
    expect(bridge.gopCache).toBeNull();
  });
});
