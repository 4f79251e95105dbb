// examples/rtsp-to-webrtc.mjs end to end: a real RTSP server (gst-rtsp-server)
// as the camera, the example as a user runs it, and headless Chromium opening
// its page. Chromium decodes the camera's H.264 (passed through), and keeps
// doing so after the RTSP server restarts.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Chromium, launchChromium } from './support/chromium.js';
import { type ExampleProcess, startExample } from './support/example.js';
import { startRtspServer, type RtspServer } from './support/rtsp-server.js';
import { until } from './support/wait.js';

interface VideoStats {
  state: string;
  framesDecoded: number;
  codec: string;
  fmtp: string;
}

/** The page's RTCPeerConnection (window.demo.pc) as the test sees it. */
function videoStats(page: Page): Promise<VideoStats> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { demo?: { pc?: RTCPeerConnection } }).demo?.pc;
    const result = { state: pc?.connectionState ?? 'none', framesDecoded: 0, codec: '', fmtp: '' };
    if (pc === undefined) return result;
    const report = new Map<string, Record<string, any>>();
    (await pc.getStats()).forEach((stats) => report.set(stats.id, stats));
    report.forEach((stats) => {
      if (stats.type !== 'inbound-rtp' || stats.kind !== 'video') return;
      result.framesDecoded = stats.framesDecoded ?? 0;
      const codec = report.get(stats.codecId);
      result.codec = codec?.mimeType ?? '';
      result.fmtp = codec?.sdpFmtpLine ?? '';
    });
    return result;
  });
}

describe('rtsp-to-webrtc in Chromium', () => {
  let camera: RtspServer;
  let bridge: ExampleProcess;
  let chromium: Chromium;

  beforeAll(async () => {
    camera = await startRtspServer();
    [bridge, chromium] = await Promise.all([startExample('rtsp-to-webrtc', [camera.url, '--port', '0']), launchChromium()]);
  }, 40_000);

  afterAll(async () => {
    await chromium?.close();
    expect(await bridge?.stop()).toBe(0);
    await camera?.stop();
  }, 30_000);

  it('plays the camera in the page, and again after the RTSP server restarted', async () => {
    const page = await chromium.context.newPage();
    await page.goto(bridge.url);
    await until(async () => (await videoStats(page)).framesDecoded >= 30, 'Chromium decodes the camera', 20_000, 100);
    const stats = await videoStats(page);
    expect(stats).toMatchObject({ state: 'connected', codec: 'video/H264' });
    expect(stats.fmtp).toMatch(/packetization-mode=1/);
    expect(stats.fmtp).toMatch(/profile-level-id=42[ce]0/); // constrained baseline, as the camera sends it

    const lines = bridge.output.length;
    await camera.restart();
    await bridge.line(/reconnecting in \d+ ms/, 20_000, lines);
    await bridge.line(/camera back after \d+ attempt/, 20_000, lines);
    const before = (await videoStats(page)).framesDecoded;
    await until(async () => (await videoStats(page)).framesDecoded >= before + 30, 'Chromium decodes the camera again', 20_000, 100);
    expect((await videoStats(page)).state).toBe('connected'); // the same connection all along

    await page.close();
    await bridge.line(/left \(/, 10_000, lines);
    expect(bridge.errors).toEqual([]);
    expect(bridge.output.filter((line) => /error/i.test(line))).toEqual([]);
  }, 90_000);
});

describe('rtsp-to-webrtc with a bad URL', () => {
  it('exits with a message naming the URL it cannot reach', async () => {
    const run = await startExample('rtsp-to-webrtc', ['rtsp://127.0.0.1:9/camera', '--port', '0']).then(
      () => null,
      (error: Error) => error.message,
    );
    expect(run).toMatch(/rtsp-to-webrtc: RTSP source rtsp:\/\/127\.0\.0\.1:9\/camera: cannot connect/);
  });
});
