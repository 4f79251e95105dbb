// examples/camera-to-browser.mjs end to end: a test pattern (no camera on the
// test machine) encoded once as H.264 by a MediaFanOut, watched by two
// headless Chromium pages at once.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseProfileLevelId } from '../lib/index.js';
import { type Chromium, launchChromium } from './support/chromium.js';
import { type ExampleProcess, startExample } from './support/example.js';
import { until } from './support/wait.js';

async function video(page: Page): Promise<{ framesDecoded: number; codec: string; fmtp: string }> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { demo?: { pc?: RTCPeerConnection } }).demo?.pc;
    const result = { framesDecoded: 0, codec: '', fmtp: '' };
    const report = new Map<string, Record<string, any>>();
    if (pc !== undefined) (await pc.getStats()).forEach((stats) => report.set(stats.id, stats));
    report.forEach((stats) => {
      if (stats.type !== 'inbound-rtp' || stats.kind !== 'video') return;
      result.framesDecoded = stats.framesDecoded ?? 0;
      result.codec = report.get(stats.codecId)?.mimeType ?? '';
      result.fmtp = report.get(stats.codecId)?.sdpFmtpLine ?? '';
    });
    return result;
  });
}

describe('camera-to-browser in Chromium', () => {
  let example: ExampleProcess;
  let chromium: Chromium;

  beforeAll(async () => {
    // --source: the machine may have a camera; the test wants the same pattern everywhere.
    const source = 'videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=30/1';
    [example, chromium] = await Promise.all([startExample('camera-to-browser', ['--source', source, '--port', '0']), launchChromium()]);
  }, 40_000);

  afterAll(async () => {
    await chromium?.close();
    expect(await example?.stop()).toBe(0);
  }, 30_000);

  it('two browsers decode the same constrained-baseline H.264 stream at once', async () => {
    const pages = [await chromium.context.newPage(), await chromium.context.newPage()];
    for (const page of pages) await page.goto(example.url);
    await until(async () => (await Promise.all(pages.map(video))).every((v) => v.framesDecoded >= 30), 'both pages decode H.264', 20_000, 100);
    for (const page of pages) {
      const stats = await video(page);
      expect(stats.codec).toBe('video/H264');
      expect(stats.fmtp).toMatch(/packetization-mode=1/);
      expect(parseProfileLevelId(/profile-level-id=([0-9a-f]{6})/i.exec(stats.fmtp)![1]).profile).toBe('constrained-baseline');
    }
    const status = (await (await fetch(new URL('status.json', example.url))).json()) as { viewers: { connectionState: string }[] };
    expect(status.viewers.map((viewer) => viewer.connectionState)).toEqual(['connected', 'connected']);

    // One leaves; the other keeps decoding.
    await pages[0].close();
    await example.line(/left \(.*1 watching\)/, 10_000);
    const frames = (await video(pages[1])).framesDecoded;
    await until(async () => (await video(pages[1])).framesDecoded >= frames + 30, 'the remaining page keeps decoding', 10_000, 100);
    await pages[1].close();
    expect(example.errors).toEqual([]);
    expect(example.output.filter((line) => /error/i.test(line))).toEqual([]);
  }, 60_000);
});
