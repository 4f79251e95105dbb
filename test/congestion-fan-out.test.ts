// The fan-out policy under congestion: one source encoded in two layers, one
// viewer behind a capped link (a network namespace with `tc tbf`), one on an
// open link. The slow viewer must be switched down to the layer its link
// carries and keep playing; the fast one must keep the best layer.
import { afterEach, describe, expect, it } from 'vitest';

import { native } from '../lib/core/native.js';
import { MediaFanOut, type WebRtcBin } from '../lib/index.js';
import { connectCappedReceiver } from './support/congestion-link.js';
import { namespacesAvailable } from './support/netns.js';
import { receive } from './support/receiver.js';
import { until } from './support/wait.js';

const available = namespacesAvailable();
if (!available) console.warn('congestion-fan-out: skipped, this machine does not let the tests create network namespaces (run as root)');

const SOURCE = 'videotestsrc is-live=true pattern=zone-plate kx2=20 ky2=20 kt=1 ! video/x-raw,width=640,height=480,framerate=30/1';
const HIGH = 1_500_000;
const LOW = 300_000;
const CAP = 700_000;

const open: { close(): void }[] = [];
afterEach(() => {
  for (const thing of open.splice(0).reverse()) thing.close();
});

/** Video bytes a receiver's WebRtcBin has received so far. */
async function bytesReceived(webrtcbin: WebRtcBin): Promise<number> {
  const inbound = Object.values(await webrtcbin.getStats()).filter((stats) => stats.type === 'inbound-rtp' && stats.kind === 'video');
  return inbound.reduce((total, stats) => total + ((stats.bytesReceived as number | undefined) ?? 0), 0);
}

describe.skipIf(!available)('fan-out congestion policy: layers', () => {
  it('switches a viewer behind a 700 kbit/s cap to the 300 kbit/s layer, where it keeps playing, while an open-link viewer keeps the 1.5 Mbit/s layer', async () => {
    const fanOut = new MediaFanOut({
      video: { source: SOURCE, codec: 'VP8' },
      congestionControl: { layers: [{ bitrate: LOW }, { bitrate: HIGH }], startBitrate: HIGH, maxBitrate: 2 * HIGH },
    });
    open.push(fanOut);
    const layerChanges: { viewer: WebRtcBin; layer: number }[] = [];
    fanOut.on('layerchange', (viewer, layer) => layerChanges.push({ viewer, layer }));
    await fanOut.start();

    const fast = fanOut.addViewer();
    const fastReceiver = await receive(fast);
    open.push(fastReceiver);
    await until(() => fastReceiver.videoFrames > 0, 'the open-link viewer decodes video');
    const slow = fanOut.addViewer();
    const slowReceiver = await connectCappedReceiver(slow, CAP);
    open.push(slowReceiver);

    // The slow viewer goes down to the low layer (its estimate falls under 1.5 Mbit/s).
    await until(() => layerChanges.some((change) => change.viewer === slow && change.layer === 1), 'the capped viewer is switched to the low layer', 20_000);

    // Then, over three 2-second windows: the slow viewer keeps decoding; the fast one keeps
    // decoding at the high layer's rate.
    const slowFrames: number[] = [];
    const fastFrames: number[] = [];
    const fastBytesBefore = await bytesReceived(fastReceiver.webrtcbin);
    const windowStart = performance.now();
    for (let window = 0; window < 3; window++) {
      const [slowBefore, fastBefore] = [slowReceiver.frames, fastReceiver.videoFrames];
      await new Promise((resolve) => setTimeout(resolve, 2000));
      slowFrames.push(slowReceiver.frames - slowBefore);
      fastFrames.push(fastReceiver.videoFrames - fastBefore);
    }
    const fastBitrate = ((await bytesReceived(fastReceiver.webrtcbin)) - fastBytesBefore) * 8 / ((performance.now() - windowStart) / 1000);
    for (const frames of slowFrames) expect(frames).toBeGreaterThan(0);
    for (const frames of fastFrames) expect(frames).toBeGreaterThan(0);
    // The fast viewer was never moved off the best layer, and gets well above the low layer's rate.
    expect(layerChanges.filter((change) => change.viewer === fast)).toEqual([]);
    expect(fastBitrate).toBeGreaterThan(2 * LOW);
    expect(slowReceiver.connectionState).toBe('connected');
  }, 90_000);

  it('without layers, the one encode follows the weakest viewer: under a 1 Mbit/s cap it goes under the cap and the viewer keeps playing', async () => {
    const fanOut = new MediaFanOut({ video: { source: SOURCE, codec: 'VP8' }, congestionControl: { startBitrate: 2_500_000, maxBitrate: 3_000_000 } });
    open.push(fanOut);
    const targets: number[] = [];
    fanOut.on('bitratechange', (change) => targets.push(change.bitrate));
    await fanOut.start();
    const viewer = fanOut.addViewer();
    const receiver = await connectCappedReceiver(viewer, 1_000_000);
    open.push(receiver);
    await until(() => targets.length > 0 && targets[targets.length - 1]! <= 1_000_000, "the encode's target goes under the cap", 15_000);
    const encoder = fanOut.pipeline.getElement('video-encoder-0')!;
    await until(() => (encoder.get('target-bitrate') as number) <= 1_000_000, "the encoder's target-bitrate is under the cap", 2000);
    const before = receiver.frames;
    await until(() => receiver.frames > before + 30, 'the viewer keeps decoding', 10_000);
    // The viewer's RTP left through its pacer.
    expect(native.pacingCounts(viewer.element.native)?.packets).toBeGreaterThan(0);
  }, 60_000);

  it('checks the congestionControl option', () => {
    expect(() => new MediaFanOut({ video: { h264: 'videotestsrc ! x264enc' }, congestionControl: {} })).toThrow(/raw video/);
    expect(() => new MediaFanOut({ video: { source: 'videotestsrc' }, congestionControl: { layers: [{ bitrate: -1 }] } })).toThrow(TypeError);
    expect(() => new MediaFanOut({ video: { source: 'videotestsrc' }, congestionControl: { layers: [{ bitrate: 1e6 }, { bitrate: 1e6 }] } })).toThrow(/different/);
    expect(() => new MediaFanOut({ video: { source: 'videotestsrc' }, keyframeRequestInterval: -5 })).toThrow(TypeError);
  });
});
