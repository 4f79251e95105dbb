// A receiving WebRtcBin waits longer for missing packets once packets it gave
// up on arrive after all (lib/core/jitterbuffer.ts), as a browser's playout
// delay grows after late packets; packets that never come grow nothing.
import { afterEach, describe, expect, it } from 'vitest';

import { PeerConnector, type Track, WebRtcBin } from '../lib/index.js';
import { rendered } from './support/media.js';
import { nextEvent, until } from './support/wait.js';

const VP8 = 'videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! vp8enc deadline=1 ! rtpvp8pay pt=96';

const open: { close(): void }[] = [];
afterEach(() => {
  for (const thing of open.splice(0)) thing.close();
});

/** A call whose video passes `impairment` (an element description) before the sender's webrtcbin. */
async function call(impairment: string, linkOptions: Parameters<Track['link']>[1] = {}): Promise<{ receiver: WebRtcBin; latency: () => number }> {
  const sender = new WebRtcBin();
  const receiver = new WebRtcBin({ latency: 100 });
  open.push(sender, receiver);
  sender.addTrack(`${VP8} ! ${impairment}`);
  receiver.on('track', (track) => track.link('rtpvp8depay ! vp8dec ! fakesink name=frames', linkOptions));
  const connected = nextEvent(receiver, 'connectionstatechange', (state) => state === 'connected');
  await PeerConnector.pair(sender, receiver);
  await connected;
  await until(() => rendered(receiver.pipeline, 'frames') > 0, 'the first frame is decoded', 20_000);
  return { receiver, latency: () => Number(receiver.element.get('latency')) };
}

describe('a receiver waits longer once packets come too late', () => {
  it('grows its latency when delayed packets arrive after it gave them up, up to maxLatency', async () => {
    // 3% of the packets held 400 to 500 ms: later than the 100 ms the receiver starts waiting.
    const { receiver, latency } = await call('netsim delay-probability=0.03 min-delay=400 max-delay=500 allow-reordering=true', { maxLatency: 500 });
    await until(() => latency() === 500, 'the latency grew to maxLatency', 30_000, 100);
    const before = rendered(receiver.pipeline, 'frames');
    await until(() => rendered(receiver.pipeline, 'frames') > before + 30, 'frames keep being decoded', 10_000);
    expect(latency(), 'never beyond maxLatency').toBe(500);
  }, 60_000);

  it('keeps its latency for packets that never come, and with maxLatency null', async () => {
    // Dropped before webrtcbin: never retransmitted, so never late; waiting longer would only hold the picture.
    const lossy = await call('identity drop-probability=0.03');
    const delayed = await call('netsim delay-probability=0.03 min-delay=400 max-delay=500 allow-reordering=true', { maxLatency: null });
    const frames = (receiver: WebRtcBin) => rendered(receiver.pipeline, 'frames');
    await until(() => frames(lossy.receiver) > 150 && frames(delayed.receiver) > 150, '5 s of frames decoded by both', 30_000);
    expect(lossy.latency()).toBe(100);
    expect(delayed.latency()).toBe(100);
  }, 60_000);

  it('lets go when the receiver closes: nothing is thrown afterwards', async () => {
    const { receiver } = await call('identity');
    receiver.close();
    // The policy looks every 100 ms: an exception from its timer would be an unhandled error of this run.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.closed).toBe(true);
  });

  it('refuses a maxLatency that is not a whole number of milliseconds', async () => {
    const [sender, receiver] = [new WebRtcBin(), new WebRtcBin()];
    open.push(sender, receiver);
    sender.addTrack(VP8);
    const errors: unknown[] = [];
    receiver.on('track', (track) => {
      for (const maxLatency of [-1, 1.5, Number.NaN, '500']) {
        try {
          track.link('rtpvp8depay ! fakesink', { maxLatency: maxLatency as number });
        } catch (error) {
          errors.push(error);
        }
      }
      track.discard();
    });
    await PeerConnector.pair(sender, receiver);
    await until(() => errors.length === 4, 'four link() calls refused');
    for (const error of errors) expect(error).toBeInstanceOf(TypeError);
  });
});
