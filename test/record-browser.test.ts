// examples/record-browser.mjs end to end: headless Chromium sends its fake
// camera and microphone, the example records them, and the page goes away
// without hanging up; the file must be finished and playable
// (gst-discoverer-1.0 reads its streams and duration).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { allowCamera, type Chromium, launchChromium } from './support/chromium.js';
import { discover } from './support/discoverer.js';
import { type ExampleProcess, startExample } from './support/example.js';
import { until } from './support/wait.js';

describe('record-browser in Chromium', () => {
  const directory = mkdtempSync(join(tmpdir(), 'gst-webrtc-node-recordings-'));
  let example: ExampleProcess;
  let chromium: Chromium;

  beforeAll(async () => {
    [example, chromium] = await Promise.all([startExample('record-browser', ['--dir', directory, '--port', '0']), launchChromium()]);
  }, 40_000);

  afterAll(async () => {
    await chromium?.close();
    expect(await example?.stop()).toBe(0);
    rmSync(directory, { recursive: true, force: true });
  }, 30_000);

  it("records the browser's camera and microphone to a WebM file that plays, after the page vanished", async () => {
    await allowCamera(chromium.context, new URL(example.url).origin);
    const page = await chromium.context.newPage();
    await page.goto(example.url);
    await until(
      () => page.evaluate(() => (window as unknown as { demo?: { pc?: RTCPeerConnection } }).demo?.pc?.connectionState === 'connected'),
      'the page is connected',
      20_000,
      100,
    );
    await page.click('#camera');
    const recording = await example.line(/recording .* to (\S+\.webm)$/, 20_000);
    expect(recording).toMatch(/recording audio \(OPUS\) and video \(VP8\)|recording video \(VP8\) and audio \(OPUS\)/);
    const path = /to (\S+\.webm)$/.exec(recording)![1];
    await until(() => (statSync(path, { throwIfNoEntry: false })?.size ?? 0) > 100_000, 'the recording grows past 100 kB', 40_000, 100);

    // No hang-up, no session end from the page: it just goes away.
    await page.close({ runBeforeUnload: false });
    const saved = await example.line(/saved (\S+) \(/, 20_000);
    expect(saved).toContain(path);
    expect(saved).not.toMatch(/cut short/);

    const file = await discover(path);
    expect(file.streams.sort()).toEqual(['audio: Opus', 'video: VP8']);
    expect(file.seekable).toBe(true);
    expect(file.duration).toBeGreaterThan(0.5);
    expect(example.errors).toEqual([]);
    expect(example.output.filter((line) => /error/i.test(line))).toEqual([]);
  }, 60_000);
});
