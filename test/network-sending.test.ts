// Issue 13 over a real link: a WebRtcBin inside a namespace sends VP8 through a
// shaped link that drops 2% of packets at random to a WebRtcBin on this side.
// With NACK/RTX (the default) over 99% of the frames sent are decoded without
// corruption; with NACK off at the receiver the same link costs frames.
//
// "Without corruption": the depayloader waits for a keyframe after any gap
// (wait-for-keyframe), so a frame counts only when every frame it refers to
// arrived. Frames are counted exactly: the sender's camera is held behind a
// valve until both sides are connected, a sink beside the payloader counts the
// frames encoded, and the valve closes again before the counts are read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PeerConnector, type RtcStatsReport, WebRtcBin } from '../lib/index.js';
import { rendered } from './support/media.js';
import { namespacesAvailable } from './support/netns.js';
import { NamespacePeer } from './support/shaped-link-peers.js';
import { createShapedLink, type ShapedLink } from './support/shaped-link.js';
import { until, untilSettled } from './support/wait.js';

const available = namespacesAvailable();
/** How long the valve stays open: 10 s, 300 frames at 30 fps. */
const SENDING_MS = 10_000;
/** 640x480 at 1 Mbit/s: a few packets a frame, so that losses hit most frames' neighbours. */
const SOURCE =
  'videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=30/1 ' +
  '! valve name=gate drop=true drop-mode=forward-sticky-events ' +
  '! vp8enc deadline=1 target-bitrate=1000000 keyframe-max-dist=150 ! tee name=split ! queue ! rtpvp8pay pt=96 ' +
  'split. ! queue ! fakesink name=sent sync=false async=false';

interface Outcome {
  sent: number;
  decoded: number;
  nackCount: number;
  packetsLost: number;
  linkDropped: number;
}

function inboundVideo(report: RtcStatsReport): { nackCount: number; packetsLost: number } {
  const inbound = Object.values(report).filter((stats) => stats.type === 'inbound-rtp');
  const sum = (field: string) => inbound.reduce((total, stats) => total + (typeof stats[field] === 'number' ? (stats[field] as number) : 0), 0);
  return { nackCount: sum('nackCount'), packetsLost: sum('packetsLost') };
}

async function sendThroughLink(link: ShapedLink, nack: boolean): Promise<Outcome> {
  const sender = NamespacePeer.start(link);
  const receiver = new WebRtcBin();
  const errors: Error[] = [];
  try {
    receiver.on('track', (track) => track.link('rtpvp8depay wait-for-keyframe=true ! vp8dec ! fakesink name=frames sync=false async=false'));
    const connector = new PeerConnector(receiver, { role: 'answerer', send: (message) => void sender.handle(message).catch((error: Error) => errors.push(error)) });
    connector.on('error', (error) => errors.push(error));
    sender.onSignal = (message) => void connector.handle(message);
    const answered = new Promise<void>((resolve) => receiver.on('signalingstatechange', (state) => state === 'stable' && resolve()));
    await sender.send(SOURCE);
    await answered;
    // The library turns NACK on for every video transceiver at each description; this is the knob it sets.
    if (!nack) for (const transceiver of receiver.getTransceivers()) transceiver.native.set('do-nack', false);
    await until(() => receiver.connectionState === 'connected', 'the receiver is connected', 20_000);
    link.setLoss(0);
    await sender.set('gate', 'drop', false);
    // Loss starts once the stream does: a packet lost before the receiver's first one cannot be NACKed.
    await until(() => rendered(receiver.pipeline, 'frames') > 0, 'the first frame is decoded', 20_000);
    link.setLoss(0.02);
    await new Promise((resolve) => setTimeout(resolve, SENDING_MS));
    await sender.set('gate', 'drop', true);
    await untilSettled(() => rendered(receiver.pipeline, 'frames'), 'the decoded count stops growing');
    const sent = await sender.rendered('sent');
    const { nackCount, packetsLost } = inboundVideo(await receiver.getStats());
    expect(errors).toEqual([]);
    return { sent, decoded: rendered(receiver.pipeline, 'frames'), nackCount, packetsLost, linkDropped: (await link.counts()).dropped };
  } finally {
    receiver.close();
    await sender.close();
  }
}

describe.skipIf(!available)('sending from a WebRtcBin over a link with 2% loss', () => {
  let link: ShapedLink;
  const outcomes: Partial<Record<'nack' | 'noNack', Outcome>> = {};
  beforeAll(async () => {
    link = await createShapedLink({ seed: 13 });
  });
  afterAll(async () => {
    await link?.close();
  });

  it('with NACK/RTX (the default) over 99% of the frames sent are decoded without corruption', async () => {
    const outcome = await sendThroughLink(link, true);
    outcomes.nack = outcome;
    expect(outcome.sent, 'frames went into the encoder').toBeGreaterThan(200);
    expect(outcome.nackCount, 'the receiver sent NACKs').toBeGreaterThan(0);
    expect(outcome.decoded / outcome.sent, JSON.stringify(outcome)).toBeGreaterThan(0.99);
  }, 60_000);

  it('with NACK off at the receiver, the same losses cost frames', async () => {
    const outcome = await sendThroughLink(link, false);
    outcomes.noNack = outcome;
    expect(outcome.nackCount, 'no NACK was sent').toBe(0);
    expect(outcome.linkDropped, 'the link dropped packets').toBeGreaterThan(0);
    const withNack = outcomes.nack ?? (await sendThroughLink(link, true));
    expect(outcome.decoded / outcome.sent, `${JSON.stringify(outcome)} against ${JSON.stringify(withNack)}`).toBeLessThan(withNack.decoded / withNack.sent);
  }, 60_000);
});
