// Congestion control for one sender over a real bottleneck: the receiver runs in
// a network namespace behind a veth pair that `tc tbf` caps. The sender's
// controller must bring a 2.5 Mbit/s start under a 1 Mbit/s cap within 5 s
// of connecting, keep the picture flowing, and climb again once the cap is lifted.
import { afterEach, describe, expect, it } from 'vitest';

import { CongestionController, transportCcCaps, WebRtcBin, type BitrateChange } from '../lib/index.js';
import { connectCappedReceiver, type CappedReceiver } from './support/congestion-link.js';
import { namespacesAvailable } from './support/netns.js';
import { until } from './support/wait.js';

const available = namespacesAvailable();
if (!available) console.warn('congestion: skipped, this machine does not let the tests create network namespaces (run as root)');

/** A moving picture whose VP8 bitrate follows the encoder's target (a test pattern compresses to nothing; noise never does). */
const VIDEO = 'videotestsrc is-live=true pattern=zone-plate kx2=20 ky2=20 kt=1 ! video/x-raw,width=640,height=480,framerate=30/1';
const VP8 = `vp8enc name=enc deadline=1 cpu-used=8 end-usage=cbr keyframe-max-dist=60 error-resilient=partitions ! rtpvp8pay pt=96${transportCcCaps()}`;
const CAP = 1_000_000;

const open: { close(): void }[] = [];
afterEach(() => {
  for (const thing of open.splice(0).reverse()) thing.close();
});

describe.skipIf(!available)('congestion control over a capped link', () => {
  it('settles a 2.5 Mbit/s start under a 1 Mbit/s cap within 5 s, keeps frames flowing, and climbs once the cap is lifted', async () => {
    const sender = new WebRtcBin({ latency: 50 });
    open.push(sender);
    sender.addTrack(`${VIDEO} ! ${VP8}`);
    const encoder = sender.pipeline.getElement('enc')!;
    const control = new CongestionController(sender, { encoder, startBitrate: 2_500_000, maxBitrate: 3_000_000 });
    const changes: (BitrateChange & { at: number })[] = [];
    const fromWebRtcBin: BitrateChange[] = [];
    control.on('bitratechange', (change) => changes.push({ ...change, at: performance.now() }));
    sender.on('bitratechange', (change) => fromWebRtcBin.push(change));
    let connectedAt = 0;
    sender.on('connectionstatechange', (state) => state === 'connected' && connectedAt === 0 && (connectedAt = performance.now()));

    const receiver: CappedReceiver = await connectCappedReceiver(sender, CAP);
    open.push(receiver);
    expect(connectedAt).toBeGreaterThan(0);

    // 1. Under the cap within 5 s of connecting.
    await until(() => control.bitrate <= CAP, 'the target bitrate is under the 1 Mbit/s cap', Math.max(0, connectedAt + 5000 - performance.now()));
    const settledAt = performance.now();
    expect(settledAt - connectedAt).toBeLessThanOrEqual(5000);

    // 2. Frames keep flowing while it stays there: three 2-second windows, each with new frames.
    const framesPerWindow: number[] = [];
    for (let window = 0; window < 3; window++) {
      const before = receiver.frames;
      await new Promise((resolve) => setTimeout(resolve, 2000));
      framesPerWindow.push(receiver.frames - before);
    }
    const settledTargets = changes.filter((change) => change.at >= settledAt).map((change) => change.bitrate);
    // AIMD probes up to the capacity and backs off: it may touch the cap, never run far over it.
    for (const target of settledTargets) expect(target).toBeLessThanOrEqual(1.1 * CAP);
    expect(control.bitrate).toBeLessThanOrEqual(1.1 * CAP);
    for (const frames of framesPerWindow) expect(frames).toBeGreaterThan(0);
    expect(framesPerWindow.reduce((a, b) => a + b, 0)).toBeGreaterThan(6 * 10); // more than 10 fps on average
    // The encoder was told (vp8enc keeps whole kbit/s), and the estimate is in getStats under its W3C name.
    await until(() => Math.abs((encoder.get('target-bitrate') as number) - control.bitrate) < 1000, "the encoder's target-bitrate is the controller's", 2000);
    const pairs = Object.values(await sender.getStats()).filter((stats) => stats.type === 'candidate-pair');
    expect(pairs.length).toBeGreaterThan(0);
    for (const pair of pairs) expect(pair.availableOutgoingBitrate).toBe(control.bitrate);
    expect(fromWebRtcBin.length).toBeGreaterThan(0);
    expect(fromWebRtcBin.some((change) => change.reason === 'delay' || change.reason === 'loss')).toBe(true);

    // 3. The cap lifts: the target climbs past it.
    receiver.lift();
    const framesAtLift = receiver.frames;
    await until(() => control.bitrate > 1.2 * CAP, 'the target bitrate climbs above 1.2 Mbit/s once the cap is lifted', 30_000);
    expect(receiver.frames).toBeGreaterThan(framesAtLift);
    expect(receiver.connectionState).toBe('connected');
  }, 90_000);

  it('checks its options and closes with its WebRtcBin', () => {
    const sender = new WebRtcBin();
    open.push(sender);
    sender.addTrack(`videotestsrc is-live=true ! ${VP8}`);
    const encoder = sender.pipeline.getElement('enc')!;
    expect(() => new CongestionController(sender, { minBitrate: 2e6, maxBitrate: 1e6 })).toThrow(TypeError);
    expect(() => new CongestionController(sender, { startBitrate: -1 })).toThrow(TypeError);
    expect(() => new CongestionController(sender, { encoder: sender.pipeline.getElement('webrtcbin0') ?? sender.element })).toThrow(/cannot set the bitrate/);
    const control = new CongestionController(sender, { encoder, startBitrate: 800_000 });
    expect(control.bitrate).toBe(800_000);
    let closes = 0;
    control.on('close', () => closes++);
    sender.close();
    expect(control.closed).toBe(true);
    control.close();
    expect(closes).toBe(1);
  });
});
