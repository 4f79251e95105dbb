// What Chromium learns from a WebRtcBin it sends its camera to: an estimate of
// the link built from our transport-cc feedback, and round-trip times from our
// receiver reports, every 0.5 to 1.5 s (rtcp-timing.ts), with an estimate above
// 1 Mbit/s on loopback. With GStreamer's
// defaults Chromium had no round-trip time for the first 5 to 8 s: reports were
// 2.5 to 7.5 s apart, so at most 4 could arrive in the 9 s waited for 5 here.
// And the WebRtcBin's own stats name what it asked for with W3C's names.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type IceCandidate, type SessionDescription, WebRtcBin } from '../lib/index.js';
import { allowCamera, type Chromium, launchChromium } from './support/chromium.js';
import { rendered } from './support/media.js';
import { until } from './support/wait.js';

interface SenderView {
  bytesSent: number;
  availableOutgoingBitrate?: number;
  roundTripTimeMeasurements: number;
  outbound?: Record<string, unknown>;
}

/** Chromium's view of its video sending: the selected pair's estimate, our reports it has measured RTT from. */
async function senderView(page: Page): Promise<SenderView> {
  return page.evaluate(async () => {
    const view: SenderView = { bytesSent: 0, roundTripTimeMeasurements: 0 };
    (await (window as any).pc.getStats()).forEach((stats: any) => {
      // Only the selected pair has the estimate (a transport can have other nominated pairs).
      if (stats.type === 'candidate-pair' && stats.availableOutgoingBitrate !== undefined) view.availableOutgoingBitrate = stats.availableOutgoingBitrate;
      if (stats.type === 'outbound-rtp' && stats.kind === 'video') {
        view.bytesSent = stats.bytesSent;
        view.outbound = stats;
      }
      if (stats.type === 'remote-inbound-rtp' && stats.kind === 'video') view.roundTripTimeMeasurements = stats.roundTripTimeMeasurements ?? 0;
    });
    return view;
  });
}

describe('RTCP a WebRtcBin sends to a browser that sends', () => {
  let chromium: Chromium;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((_, response) => response.end('<!doctype html><title>camera</title>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    chromium = await launchChromium();
    await allowCamera(chromium.context, new URL(url).origin);
  }, 30_000);
  afterAll(async () => {
    await chromium?.close();
    server?.close();
  });

  it('Chromium sending its camera has a bandwidth estimate and round-trip times from us within seconds; our stats use W3C names', async () => {
    const page = await chromium.context.newPage();
    const receiver = new WebRtcBin({ latency: 50 });
    try {
      await page.goto(url);
      await page.evaluate(async () => {
        const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
        const pc = new RTCPeerConnection();
        pc.addTrack(stream.getVideoTracks()[0], stream);
        const candidates: RTCIceCandidateInit[] = [];
        pc.onicecandidate = (event) => event.candidate !== null && candidates.push(event.candidate.toJSON());
        Object.assign(window, { pc, candidates });
      });
      receiver.on('track', (track) => track.link('rtpvp8depay ! vp8dec ! fakesink name=frames'));
      receiver.on('icecandidate', (candidate) => void page.evaluate((c) => (window as any).pc.addIceCandidate(c), candidate));
      const offer = await page.evaluate(async () => {
        const pc = (window as any).pc as RTCPeerConnection;
        await pc.setLocalDescription();
        return pc.localDescription!.toJSON() as SessionDescription;
      });
      await receiver.setRemoteDescription(offer);
      await receiver.setLocalDescription();
      await page.evaluate((answer) => (window as any).pc.setRemoteDescription(answer), receiver.localDescription!);
      for (const candidate of await page.evaluate(() => (window as any).candidates as IceCandidate[])) await receiver.addIceCandidate(candidate);

      await until(async () => (await senderView(page)).bytesSent > 0, 'Chromium sends', 20_000);
      await until(async () => (await senderView(page)).roundTripTimeMeasurements >= 5, 'five round-trip times from our receiver reports', 9_000, 200);
      // Chromium probes the link at the start and needs prompt feedback to use the
      // result: with GStreamer's timing its estimate stayed near 0.3 Mbit/s for 8 s
      // in one of two runs under load (docs/receiving.md); here it is above 1 Mbit/s.
      await until(async () => ((await senderView(page)).availableOutgoingBitrate ?? 0) >= 1_000_000, 'an estimate above 1 Mbit/s from our transport-cc feedback', 10_000, 200);
      const view = await senderView(page);
      await until(() => rendered(receiver.pipeline, 'frames') >= 30, 'frames decoded', 20_000);

      // Our inbound-rtp has what a browser's has, by the same names.
      const inbound = Object.values(await receiver.getStats()).find((stats) => stats.type === 'inbound-rtp' && Number(stats.packetsReceived) > 0)!;
      for (const name of ['packetsReceived', 'packetsLost', 'jitter', 'nackCount', 'pliCount', 'firCount']) expect(typeof inbound[name], name).toBe('number');
      // ...and Chromium's outbound-rtp (read before ours) counts no more keyframe requests than we sent.
      expect(Number(view.outbound?.pliCount ?? 0) + Number(view.outbound?.firCount ?? 0)).toBeLessThanOrEqual(Number(inbound.pliCount) + Number(inbound.firCount));
    } finally {
      receiver.close();
      await page.close();
    }
  }, 60_000);
});
