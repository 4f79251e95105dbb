// Congestion control with Chromium as the viewer: Chromium's transport-cc
// feedback reaches the fan-out's controller (TWCC statistics appear, and the
// estimate is in getStats as availableOutgoingBitrate) and the video decodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MediaFanOut } from '../lib/index.js';
import { type Chromium, launchChromium } from './support/chromium.js';
import { until } from './support/wait.js';

let chromium: Chromium;
beforeAll(async () => {
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
});

describe('congestion control with a Chromium viewer', () => {
  it("uses Chromium's transport-cc feedback: TWCC statistics, an estimate in getStats, a picture", async () => {
    const fanOut = new MediaFanOut({
      video: { source: 'videotestsrc is-live=true pattern=zone-plate kx2=20 ky2=20 kt=1 ! video/x-raw,width=640,height=480,framerate=30/1', codec: 'VP8' },
      congestionControl: { startBitrate: 1_000_000 },
    });
    try {
      await fanOut.start();
      const page = await chromium.context.newPage();
      // The browser offers (recvonly video), with every candidate in the offer.
      const offer = await page.evaluate(async () => {
        const pc = new RTCPeerConnection();
        (window as unknown as { pc: RTCPeerConnection }).pc = pc;
        pc.addTransceiver('video', { direction: 'recvonly' });
        await pc.setLocalDescription();
        await new Promise<void>((resolve) => {
          if (pc.iceGatheringState === 'complete') return resolve();
          pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
        });
        return pc.localDescription!.sdp;
      });
      const viewer = fanOut.addViewer({ remoteOffer: { type: 'offer', sdp: offer } });
      await viewer.setRemoteDescription({ type: 'offer', sdp: offer });
      await viewer.setLocalDescription();
      await until(() => viewer.iceGatheringState === 'complete', 'our candidates are gathered', 10_000);
      const answer = viewer.localDescription!.sdp;
      expect(answer).toMatch(/a=extmap:\d+ http:\/\/www\.ietf\.org\/id\/draft-holmer-rmcat-transport-wide-cc-extensions-01/);
      await page.evaluate(async (sdp) => {
        await (window as unknown as { pc: RTCPeerConnection }).pc.setRemoteDescription({ type: 'answer', sdp });
      }, answer);

      const framesDecoded = () =>
        page.evaluate(async () => {
          const stats = await (window as unknown as { pc: RTCPeerConnection }).pc.getStats();
          let frames = 0;
          stats.forEach((entry) => entry.type === 'inbound-rtp' && entry.kind === 'video' && (frames += entry.framesDecoded ?? 0));
          return frames;
        });
      await until(async () => (await framesDecoded()) > 30, 'Chromium decodes the video', 20_000);
      let twcc: Record<string, number> | undefined;
      let available: unknown;
      await until(
        async () => {
          const pair = Object.values(await viewer.getStats()).find((stats) => stats.type === 'candidate-pair' && stats.gstTwccStats !== undefined);
          twcc = pair?.gstTwccStats as Record<string, number> | undefined;
          available = pair?.availableOutgoingBitrate;
          return twcc !== undefined && twcc.bitrateRecv > 0;
        },
        "Chromium's transport-cc feedback arrives (TWCC statistics with a receive rate)",
        15_000,
      );
      expect(typeof available).toBe('number');
      expect(available as number).toBeGreaterThan(0);
    } finally {
      fanOut.close();
    }
  }, 60_000);
});
