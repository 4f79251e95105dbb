// A browser that stops a transceiver re-offers its m-line with port 0 and leaves
// it out of its BUNDLE group; the answer must reject it too (RFC 3264, JSEP), or
// Chromium refuses the answer.
import { parse as parseSdp } from 'sdp-transform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type IceCandidate, type SessionDescription, WebRtcBin } from '../lib/index.js';
import { type Chromium, launchChromium } from './support/chromium.js';
import { until } from './support/wait.js';

describe('a transceiver stopped in Chromium', () => {
  let chromium: Chromium;
  beforeAll(async () => {
    chromium = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    await chromium?.close();
  });

  it('is rejected in our answer to its re-offer; Chromium accepts that answer and the connection stays up', async () => {
    const page = await chromium.context.newPage();
    const answerer = new WebRtcBin();
    try {
      await page.evaluate(() => {
        const pc = new RTCPeerConnection();
        pc.addTransceiver('audio');
        pc.addTransceiver('video');
        pc.createDataChannel('kept');
        Object.assign(window, { pc });
      });
      answerer.on('icecandidate', (candidate) => candidate !== null && void page.evaluate((c) => (window as any).pc.addIceCandidate(c), candidate));
      const negotiate = async (): Promise<{ offer: SessionDescription; answer: SessionDescription; applied: string }> => {
        const offer = await page.evaluate(async () => {
          const pc = (window as any).pc as RTCPeerConnection;
          await pc.setLocalDescription();
          return pc.localDescription!.toJSON() as SessionDescription;
        });
        await answerer.setRemoteDescription(offer);
        await answerer.setLocalDescription();
        const answer = answerer.localDescription!;
        const applied = await page.evaluate(async (description) => {
          try {
            await (window as any).pc.setRemoteDescription(description);
            return 'accepted';
          } catch (error) {
            return String(error);
          }
        }, answer);
        return { offer, answer, applied };
      };

      const first = await negotiate();
      expect(first.applied).toBe('accepted');
      const candidates = await page.evaluate(async () => {
        const pc = (window as any).pc as RTCPeerConnection;
        const gathered: RTCIceCandidateInit[] = [];
        await new Promise<void>((resolve) => {
          pc.onicecandidate = (event) => (event.candidate === null ? resolve() : gathered.push(event.candidate.toJSON()));
          if (pc.iceGatheringState === 'complete') resolve();
        });
        return gathered;
      });
      for (const candidate of candidates as IceCandidate[]) await answerer.addIceCandidate(candidate);
      const chromiumState = () => page.evaluate(() => ((window as any).pc as RTCPeerConnection).connectionState);
      await until(async () => answerer.connectionState === 'connected' && (await chromiumState()) === 'connected', 'both peers are connected');

      await page.evaluate(() => ((window as any).pc as RTCPeerConnection).getTransceivers()[1].stop());
      const second = await negotiate();
      const offered = parseSdp(second.offer.sdp);
      expect(offered.media[1].port).toBe(0); // what Chromium sends for a stopped transceiver
      expect(second.applied).toBe('accepted');
      const answered = parseSdp(second.answer.sdp);
      expect(answered.media.map((media) => media.port === 0)).toEqual([false, true, false]);
      expect(answered.groups?.find((group) => group.type === 'BUNDLE')?.mids.split(' ')).toEqual(offered.groups?.find((group) => group.type === 'BUNDLE')?.mids.split(' '));
      expect([answerer.connectionState, await chromiumState()]).toEqual(['connected', 'connected']);
    } finally {
      answerer.close();
      await page.close();
    }
  });
});
