// A WebRtcBin that receives from Chromium negotiates the feedback Chromium adapts
// to: transport-wide congestion control, NACK with RTX, PLI and FIR.
import type { Page } from 'playwright-core';
import { parse as parseSdp } from 'sdp-transform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type IceCandidate, type SessionDescription, WebRtcBin } from '../lib/index.js';
import { type Chromium, launchChromium } from './support/chromium.js';
import { rendered } from './support/media.js';
import { until } from './support/wait.js';

const TRANSPORT_CC = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';

/** A page that sends a canvas at 30 fps; the test drives its RTCPeerConnection. */
async function sendingPage(chromium: Chromium): Promise<Page> {
  const page = await chromium.context.newPage();
  await page.goto('about:blank');
  await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 240;
    const context = canvas.getContext('2d')!;
    setInterval(() => {
      context.fillStyle = `hsl(${(Date.now() / 10) % 360}, 60%, 50%)`;
      context.fillRect(0, 0, 320, 240);
      context.fillStyle = '#fff';
      context.fillText(String(Date.now()), 10 + ((Date.now() / 5) % 250), 120);
    }, 33);
    const pc = new RTCPeerConnection();
    const stream = (canvas as HTMLCanvasElement & { captureStream(fps: number): MediaStream }).captureStream(30);
    pc.addTrack(stream.getVideoTracks()[0], stream);
    const candidates: RTCIceCandidateInit[] = [];
    pc.onicecandidate = (event) => event.candidate !== null && candidates.push(event.candidate.toJSON());
    Object.assign(window, { pc, candidates });
  });
  return page;
}

describe('feedback to a browser that sends', () => {
  let chromium: Chromium;
  beforeAll(async () => {
    chromium = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    await chromium?.close();
  });

  it('answers Chromium with transport-cc, nack, nack pli, ccm fir and RTX, and decodes what it sends', async () => {
    const page = await sendingPage(chromium);
    const receiver = new WebRtcBin({ latency: 50 });
    try {
      receiver.on('track', (track) => track.link('rtpvp8depay ! vp8dec ! fakesink name=frames'));
      receiver.on('icecandidate', (candidate) => void page.evaluate((c) => (window as any).pc.addIceCandidate(c), candidate));
      const offer = await page.evaluate(async () => {
        const pc = (window as any).pc as RTCPeerConnection;
        await pc.setLocalDescription();
        return pc.localDescription!.toJSON() as SessionDescription;
      });
      await receiver.setRemoteDescription(offer);
      await receiver.setLocalDescription();
      const answer = receiver.localDescription!;
      await page.evaluate((a) => (window as any).pc.setRemoteDescription(a), answer);
      const sent = await page.evaluate(() => (window as any).candidates as IceCandidate[]);
      for (const candidate of sent) await receiver.addIceCandidate(candidate);

      const video = parseSdp(answer.sdp).media[0];
      const payload = video.rtp.find((format) => format.codec === 'VP8')!.payload;
      const feedback = (video.rtcpFb ?? []).filter((fb) => String(fb.payload) === String(payload)).map((fb) => `${fb.type}${fb.subtype ? ` ${fb.subtype}` : ''}`);
      expect(feedback).toEqual(expect.arrayContaining(['nack', 'nack pli', 'ccm fir', 'transport-cc']));
      expect(video.ext?.map((extension) => extension.uri)).toContain(TRANSPORT_CC);
      expect(video.rtp.some((format) => format.codec === 'rtx')).toBe(true);

      await until(() => rendered(receiver.pipeline, 'frames') >= 30, 'frames from Chromium decoded', 20_000);
    } finally {
      receiver.close();
      await page.close();
    }
  }, 60_000);
});

describe('loss recovery negotiated by a sender', () => {
  it('a WebRtcBin that sends video offers nack, nack pli and RTX, and its peer answers with them', async () => {
    const sender = new WebRtcBin();
    const receiver = new WebRtcBin();
    try {
      sender.addTrack('videotestsrc is-live=true ! vp8enc deadline=1 ! rtpvp8pay pt=96');
      await sender.setLocalDescription();
      await receiver.setRemoteDescription(sender.localDescription!);
      await receiver.setLocalDescription();
      for (const description of [sender.localDescription!, receiver.localDescription!]) {
        const video = parseSdp(description.sdp).media[0];
        const feedback = (video.rtcpFb ?? []).filter((fb) => String(fb.payload) === '96').map((fb) => `${fb.type}${fb.subtype ? ` ${fb.subtype}` : ''}`);
        expect(feedback, description.type).toEqual(expect.arrayContaining(['nack', 'nack pli']));
        expect(video.fmtp.some((entry) => entry.config === 'apt=96'), `${description.type} has RTX for VP8`).toBe(true);
      }
    } finally {
      sender.close();
      receiver.close();
    }
  });
});
