// Keyframes on demand: a receiver's PLI reaches the sender's encoder as a
// keyframe, and a KeyframeLimiter lets at most one request per interval
// through (the rest are answered by one keyframe once the interval is over).
import { afterEach, describe, expect, it } from 'vitest';

import { branchesOf } from '../lib/core/branch.js';
import { DEFAULT_KEYFRAME_REQUEST_INTERVAL, KeyframeLimiter, WebRtcBin, type Element } from '../lib/index.js';
import { rendered } from './support/media.js';
import { receive, type Receiver } from './support/receiver.js';
import { until } from './support/wait.js';

// No natural keyframe after the first for the length of the test: every other one was asked for.
// A tee counts the encoder's keyframes: identity drops every delta unit before the `keyframes` sink.
const SENDER =
  'videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! vp8enc name=enc deadline=1 keyframe-max-dist=100000 ! ' +
  'tee name=split ! queue name=to-payloader ! rtpvp8pay pt=96  split. ! queue ! identity drop-buffer-flags=delta-unit ! fakesink name=keyframes sync=false async=false';

const open: { close(): void }[] = [];
afterEach(() => {
  for (const thing of open.splice(0).reverse()) thing.close();
});

/** A sender whose encoder makes keyframes only on request, connected to a decoding receiver. */
async function connectedPair(): Promise<{ sender: WebRtcBin; receiver: Receiver; encoder: Element; keyframes: () => number }> {
  const sender = new WebRtcBin({ latency: 50 });
  open.push(sender);
  sender.addTrack(SENDER);
  const receiver = await receive(sender);
  open.push(receiver);
  await until(() => receiver.videoFrames > 10, 'the receiver decodes video');
  return { sender, receiver, encoder: sender.pipeline.getElement('enc')!, keyframes: () => rendered(sender.pipeline, 'keyframes') };
}

/** Makes the receiver ask for a keyframe the way a decoder does: an upstream force-key-unit event, which rtpsession sends as a PLI. */
function requestFromReceiver(receiver: Receiver): void {
  const branch = receiver.webrtcbin.pipeline.getElement('video-out')!;
  const branches = branchesOf(receiver.webrtcbin.pipeline);
  branches.forceKeyUnit(branches.pad(branch.native, 'sink')!);
}

/**
 * Keyframe requests the receiver has sent: rtpsession sends a FIR for a request
 * with all headers when FIR is negotiated, else a PLI. (The sender's own
 * firCount stays 0 in GStreamer 1.22: a FIR names the stream inside its FCI,
 * and rtpsession counts only by the header's media SSRC, which is 0.)
 */
async function requestsSent(receiver: Receiver): Promise<number> {
  const inbound = Object.values(await receiver.webrtcbin.getStats()).filter((stats) => stats.type === 'inbound-rtp');
  return inbound.reduce((total, stats) => total + ((stats.pliCount as number | undefined) ?? 0) + ((stats.firCount as number | undefined) ?? 0), 0);
}

describe('keyframes on demand', () => {
  it("a receiver's PLI/FIR makes the sender's encoder send a keyframe", async () => {
    const { receiver, keyframes } = await connectedPair();
    const before = keyframes();
    const sentBefore = await requestsSent(receiver);
    let lastAskedAt = -Infinity;
    for (let request = 1; request <= 3; request++) {
      // The receiver's track passes one keyframe request per interval (its own limit, docs/receiving.md),
      // and its decoder may have asked just before (a late packet on a loaded machine): ask again each
      // interval until the request is seen sent.
      await until(
        async () => {
          if (performance.now() - lastAskedAt > DEFAULT_KEYFRAME_REQUEST_INTERVAL) {
            requestFromReceiver(receiver);
            lastAskedAt = performance.now();
          }
          return (await requestsSent(receiver)) >= sentBefore + request;
        },
        `the receiver sent keyframe request ${request}`,
        10_000,
      );
      await until(() => keyframes() >= before + request, `keyframe ${request} was encoded`, 10_000);
    }
  });

  it('a KeyframeLimiter lets one request per interval reach the encoder and answers the held ones with one keyframe', async () => {
    const { sender, receiver, encoder, keyframes } = await connectedPair();
    const limiter = new KeyframeLimiter(sender.pipeline, encoder, 1500);
    open.push(limiter);
    const before = keyframes();
    const requests: boolean[] = [];
    limiter.on('request', (passed) => requests.push(passed));
    // Ten requests, one every 100 ms, from the sending branch (as a fan-out asks for a joining
    // viewer); then one from the receiver (a FIR), still within the interval.
    const branches = branchesOf(sender.pipeline);
    const payloaderInput = branches.pad(sender.pipeline.getElement('to-payloader')!.native, 'src')!;
    for (let request = 0; request < 10; request++) {
      branches.forceKeyUnit(payloaderInput);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const sentBefore = await requestsSent(receiver);
    requestFromReceiver(receiver);
    await until(async () => (await requestsSent(receiver)) > sentBefore, 'the receiver sent its request', 5000);
    await until(() => requests.length >= 11, 'every request reached the limiter', 5000);
    // The held ones are answered once the interval is over: one more keyframe.
    await until(() => limiter.passed >= 2, 'a keyframe was asked for on behalf of the held requests', 5000);
    await until(() => keyframes() >= before + 2, 'two keyframes were encoded', 5000);
    expect(limiter.held).toBeGreaterThanOrEqual(5);
    expect(requests.filter((passed) => !passed).length).toBe(limiter.held);
    // Nothing more is asked for: the count stays at two until the next interval would allow a third.
    const passedNow = limiter.passed;
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect(limiter.passed).toBe(passedNow);
    expect(keyframes() - before).toBeLessThanOrEqual(passedNow);
  });

  it('checks its arguments', () => {
    const sender = new WebRtcBin();
    open.push(sender);
    sender.addTrack(SENDER);
    const encoder = sender.pipeline.getElement('enc')!;
    expect(() => new KeyframeLimiter(sender.pipeline, encoder, -1)).toThrow(TypeError);
    const limiter = new KeyframeLimiter(sender.pipeline, encoder);
    expect(limiter.interval).toBe(1000);
    limiter.close();
    limiter.close();
  });
});
