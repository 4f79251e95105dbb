// Issue 15 over a real link: headless Chromium, inside a namespace behind a
// shaped link that drops 2% of packets at random, sends its fake camera at 30 fps
// to a WebRtcBin on this side that decodes. The WebRtcBin's NACKs must be
// answered (Chromium retransmits) and over 99% of the frames Chromium sent must
// be decoded. The loss starts with the stream's first decoded frame.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PeerConnector, WebRtcBin } from '../lib/index.js';
import { rendered } from './support/media.js';
import { namespacesAvailable } from './support/netns.js';
import { type BrowserPeer, LinkBrowser } from './support/shaped-link-peers.js';
import { createShapedLink, type ShapedLink } from './support/shaped-link.js';
import { until, untilSettled } from './support/wait.js';

const available = namespacesAvailable();
/** Frames sent before the camera stops: 12 s at 30 fps. */
const FRAMES = 360;

describe.skipIf(!available)('receiving from Chromium over a link with 2% loss', () => {
  let link: ShapedLink;
  let browser: LinkBrowser;
  beforeAll(async () => {
    link = await createShapedLink({ seed: 15 });
    browser = await LinkBrowser.launch(link);
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await link?.close();
  });

  it('answers NACKs with retransmissions and decodes over 99% of the frames sent', async () => {
    const sender: BrowserPeer = await browser.newPeer();
    const receiver = new WebRtcBin();
    const errors: Error[] = [];
    try {
      receiver.on('track', (track) => track.link('rtpvp8depay ! vp8dec ! fakesink name=frames sync=false async=false'));
      const connector = new PeerConnector(receiver, { role: 'answerer', send: (message) => void sender.handle(message).catch((error: Error) => errors.push(error)) });
      connector.on('error', (error) => errors.push(error));
      sender.onSignal = (message) => void connector.handle(message);
      await sender.start('send');
      await sender.offer();
      await until(() => rendered(receiver.pipeline, 'frames') > 0, 'the first frame is decoded', 20_000);
      const atFirstFrame = (await sender.stats()).framesSent;
      // Loss starts once the stream does: a packet lost before the receiver's first one cannot be NACKed (it
      // knows of no gap), and recovering from that is a keyframe request, not what this test is about.
      link.setLoss(0.02);
      await until(async () => (await sender.stats()).framesSent >= FRAMES, `Chromium has sent ${FRAMES} frames`, 30_000, 200);
      await sender.stopSending();
      // The last frames arrive (and their retransmissions) within the jitterbuffer's latency: wait until the count settles.
      await untilSettled(() => rendered(receiver.pipeline, 'frames'), 'the decoded count stops growing');
      const sent = await sender.stats();
      const decoded = rendered(receiver.pipeline, 'frames');
      const counts = await link.counts();
      const inbound = Object.values(await receiver.getStats()).find((stats) => stats.type === 'inbound-rtp');
      const detail = `${decoded} of ${sent.framesSent} frames decoded (${atFirstFrame} sent by the first; ${sent.nackCount} NACKs received, ${sent.retransmittedPacketsSent} packets resent; ` +
        `receiver: ${inbound?.packetsLost} lost, ${inbound?.nackCount} NACKs; link: ${JSON.stringify(counts)})`;
      expect(errors).toEqual([]);
      expect(counts.dropped, 'the link dropped packets').toBeGreaterThan(0);
      expect(inbound?.nackCount, 'the WebRtcBin sent NACKs').toBeGreaterThan(0);
      expect(sent.nackCount, 'Chromium received NACKs').toBeGreaterThan(0);
      expect(sent.retransmittedPacketsSent, 'Chromium retransmitted').toBeGreaterThan(0);
      expect(decoded / sent.framesSent, detail).toBeGreaterThan(0.99);
    } finally {
      receiver.close();
      await sender.close();
    }
  }, 60_000);
});
