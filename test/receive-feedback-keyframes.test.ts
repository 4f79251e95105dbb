// A receiving WebRtcBin asks for a keyframe when it loses sync, so the picture
// recovers long before the sender's next natural keyframe, and no faster than
// the rate limit allows. The sender drops 2% of its RTP packets before
// webrtcbin: they never reach its retransmission store, so NACK cannot repair
// them, and only a keyframe can.
import { afterEach, describe, expect, it } from 'vitest';

import { PeerConnector, type Track, WebRtcBin } from '../lib/index.js';
import type { RtcStats } from '../lib/core/stats.js';
import { rendered } from './support/media.js';
import { nextEvent, until } from './support/wait.js';

/** VP8 at 30 fps with a natural keyframe only every 3000 frames (100 s), 2% of its packets lost before webrtcbin. */
const LOSSY_VP8 =
  'videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! vp8enc deadline=1 keyframe-max-dist=3000 ! rtpvp8pay pt=96 ! identity drop-probability=0.02';

const open: { close(): void }[] = [];
afterEach(() => {
  for (const thing of open.splice(0)) thing.close();
});

async function inboundVideo(receiver: WebRtcBin): Promise<RtcStats | undefined> {
  return Object.values(await receiver.getStats()).find((stats) => stats.type === 'inbound-rtp' && stats.pliCount !== undefined);
}

async function lossyCall(keyframeRequestInterval?: number | null): Promise<{ sender: WebRtcBin; receiver: WebRtcBin; video: () => Track | undefined }> {
  const sender = new WebRtcBin();
  const receiver = new WebRtcBin({ latency: 50 });
  open.push(sender, receiver);
  sender.addTrack(LOSSY_VP8);
  let video: Track | undefined;
  receiver.on('track', (track) => {
    video = track;
    // waitForKeyframe: frames only continue after a loss if the requests are answered.
    track.link('rtpvp8depay ! vp8dec ! fakesink name=frames', keyframeRequestInterval === undefined ? { waitForKeyframe: true } : { keyframeRequestInterval, waitForKeyframe: true });
  });
  const connected = nextEvent(receiver, 'connectionstatechange', (state) => state === 'connected');
  await PeerConnector.pair(sender, receiver);
  await connected;
  return { sender, receiver, video: () => video };
}

describe('keyframe requests from a receiver', () => {
  it('requests keyframes on loss: frames keep being decoded, and requests stay within the rate limit', async () => {
    const started = Date.now(); // before any request can be made
    const { sender, receiver, video } = await lossyCall();
    // The decoder discards what follows a loss until a keyframe arrives: frames are
    // only decoded after many losses if keyframes keep coming. Counted in requests
    // and frames, not frames per second (a loaded machine encodes fewer).
    await until(() => (video()?.keyframeRequests?.sent ?? 0) >= 5, 'five keyframe requests sent', 60_000);
    const decoded = rendered(receiver.pipeline, 'frames');
    await until(() => rendered(receiver.pipeline, 'frames') >= decoded + 60, '60 more frames decoded after the fifth request', 30_000);
    const elapsed = Date.now() - started;
    const requests = video()!.keyframeRequests!;
    const inbound = await inboundVideo(receiver);
    expect(inbound?.packetsLost as number, 'packets were lost').toBeGreaterThan(0);
    expect(requests.sent, 'keyframe requests sent').toBeGreaterThan(0);
    expect(inbound?.pliCount as number, 'PLIs on the wire').toBeGreaterThan(0);
    // At most one request per 500 ms (the first at any time).
    expect(requests.sent).toBeLessThanOrEqual(Math.floor(elapsed / 500) + 1);
    expect(inbound?.pliCount as number).toBeLessThanOrEqual(requests.sent);
    // W3C names on both sides: what the receiver sent, what the sender received.
    for (const name of ['packetsReceived', 'packetsLost', 'jitter', 'nackCount', 'pliCount', 'firCount']) expect(typeof inbound?.[name], name).toBe('number');
    const outbound = Object.values(await sender.getStats()).find((stats) => stats.type === 'outbound-rtp' && Number(stats.packetsSent) > 0);
    expect(outbound?.pliCount as number, "the sender's outbound-rtp counts the PLIs").toBeGreaterThan(0);
    expect(outbound?.nackCount as number, 'NACKs were sent for the lost packets').toBeGreaterThan(0);
  }, 120_000);

  it('keeps to a longer interval: requests beyond it are suppressed, never sent', async () => {
    const started = Date.now();
    const { receiver, video } = await lossyCall(2000);
    // Three sent take at least two intervals; one suppressed shows the limit at work.
    await until(() => (video()?.keyframeRequests?.suppressed ?? 0) > 0 && (video()?.keyframeRequests?.sent ?? 0) >= 3, 'three requests sent and one suppressed', 60_000);
    const elapsed = Date.now() - started;
    const requests = video()!.keyframeRequests!;
    expect(requests.sent).toBeLessThanOrEqual(Math.floor(elapsed / 2000) + 1);
    expect(rendered(receiver.pipeline, 'frames'), 'frames decoded between the losses').toBeGreaterThan(0);
  }, 90_000);

  it('refuses an interval that is not a number of milliseconds', async () => {
    const [sender, receiver] = [new WebRtcBin(), new WebRtcBin()];
    open.push(sender, receiver);
    sender.addTrack('videotestsrc is-live=true ! vp8enc deadline=1 ! rtpvp8pay pt=96');
    const errors: unknown[] = [];
    receiver.on('track', (track) => {
      for (const interval of [-1, Number.NaN, '500']) {
        try {
          track.link('rtpvp8depay ! fakesink', { keyframeRequestInterval: interval as number });
        } catch (error) {
          errors.push(error);
        }
      }
      track.discard();
    });
    await PeerConnector.pair(sender, receiver);
    await until(() => errors.length === 3, 'three link() calls refused');
    for (const error of errors) expect(error).toBeInstanceOf(TypeError);
  });
});
