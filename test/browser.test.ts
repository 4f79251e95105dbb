// End to end in a real browser: `gst-webrtc-node demo` (what `npm start` runs) and
// headless Chromium with a fake camera, with Chromium's default privacy settings.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { allowCamera, type Chromium, launchChromium } from './support/chromium.js';
import { until } from './support/wait.js';

interface ViewerStatus {
  peerId: string;
  connectionState: string;
  videoFramesReceived: number;
  audioBuffersReceived: number;
}

interface DemoProcess {
  url: string;
  output: string[];
  errors: string[];
  stop(): Promise<number | null>;
}

/** Runs the demo CLI on a free port; resolves once it printed the URL to open. */
async function startDemoProcess(): Promise<DemoProcess> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [join(__dirname, '../bin/gst-webrtc-node.js'), 'demo', '--port', '0'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const errors: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (text: string) => output.push(...text.split('\n').filter(Boolean)));
  child.stderr.setEncoding('utf8').on('data', (text: string) => errors.push(...text.split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  try {
    await until(() => child.exitCode !== null || output.some((line) => /open (https?:\S+) in a browser/.test(line)), 'the demo prints its URL', 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const line = output.find((text) => /open (https?:\S+) in a browser/.test(text));
  if (line === undefined) throw new Error(`the demo exited early:\n${[...output, ...errors].join('\n')}`);
  return { url: /open (https?:\S+) in a browser/.exec(line)![1], output, errors, stop };
}

async function viewers(demo: DemoProcess): Promise<ViewerStatus[]> {
  const response = await fetch(new URL('status.json', demo.url));
  return ((await response.json()) as { viewers: ViewerStatus[] }).viewers;
}

/** The page's own getStats(): frames of GStreamer's video the browser decoded. */
function framesDecoded(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { demo?: { pc?: RTCPeerConnection } }).demo?.pc;
    if (pc === undefined) return 0;
    let frames = 0;
    (await pc.getStats()).forEach((stats) => {
      if (stats.type === 'inbound-rtp' && stats.kind === 'video') frames = stats.framesDecoded ?? 0;
    });
    return frames;
  });
}

function connectionState(page: Page): Promise<string> {
  return page.evaluate(() => (window as unknown as { demo?: { pc?: RTCPeerConnection } }).demo?.pc?.connectionState ?? 'none');
}

/** Opens the demo page and waits until GStreamer's video is being decoded and keeps coming. */
async function watch(chromium: Chromium, demo: DemoProcess): Promise<Page> {
  const page = await chromium.context.newPage();
  page.on('pageerror', (error) => demo.errors.push(`page: ${error.message}`));
  await page.goto(demo.url);
  await until(async () => (await connectionState(page)) === 'connected', 'the page is connected', 20_000, 100);
  // Chromium's default privacy settings: its host candidates are mDNS names that
  // webrtcbin cannot resolve; the connection forms through peer-reflexive candidates.
  const sent = await page.evaluate(() => (window as unknown as { demo: { sentCandidates: string[] } }).demo.sentCandidates);
  const hosts = sent.filter((candidate) => / typ host/.test(candidate));
  expect(hosts.length).toBeGreaterThan(0);
  expect(hosts.filter((candidate) => !/ [0-9a-f-]+\.local \d+ typ host/.test(candidate))).toEqual([]);
  await until(async () => (await framesDecoded(page)) >= 30, 'the page decodes GStreamer video', 20_000, 100);
  const decoded = await framesDecoded(page);
  await until(async () => (await framesDecoded(page)) >= decoded + 30, 'the decoded frame count keeps growing', 20_000, 100);
  return page;
}

describe('demo in Chromium', () => {
  // Unset when beforeAll failed to start them.
  let demo: DemoProcess | undefined;
  let chromium: Chromium | undefined;
  const running = () => {
    if (demo === undefined || chromium === undefined) throw new Error('the demo or Chromium did not start');
    return { demo, chromium };
  };

  beforeAll(async () => {
    const [started, launched] = await Promise.allSettled([startDemoProcess(), launchChromium()]);
    // Keep what started, so afterAll stops it even when the other one failed.
    if (started.status === 'fulfilled') demo = started.value;
    if (launched.status === 'fulfilled') chromium = launched.value;
    for (const result of [started, launched]) if (result.status === 'rejected') throw result.reason;
  }, 30_000);

  afterAll(async () => {
    await chromium?.close();
    // Ctrl+C (SIGTERM here) stops the demo cleanly.
    if (demo !== undefined) expect(await demo.stop()).toBe(0);
  }, 30_000);

  it('plays the GStreamer video in the page, and GStreamer decodes the fake camera the page sends back', async () => {
    const { demo, chromium } = running();
    const config = (await (await fetch(new URL('config.json', demo.url))).json()) as { iceServers: unknown[] };
    expect(config.iceServers).toEqual([]);

    const page = await watch(chromium, demo);
    expect(await page.textContent('#connection-state')).toBe('connected');

    const [viewer] = await viewers(demo);
    expect(viewer.connectionState).toBe('connected');
    expect(viewer.videoFramesReceived).toBe(0);

    await allowCamera(chromium.context, new URL(demo.url).origin);
    await page.click('#camera');
    await until(async () => {
      const [status] = await viewers(demo);
      return status !== undefined && status.videoFramesReceived >= 30 && status.audioBuffersReceived >= 10;
    }, 'GStreamer decodes the camera and microphone the page sends', 20_000, 200);
    expect(await page.textContent('#camera')).toBe('Stop sending');
    await page.close();
    await until(async () => (await viewers(demo)).length === 0, 'the demo drops the browser that left', 10_000, 100);
  }, 50_000);

  it('streams to a browser that joins after another one left, and to two at once', async () => {
    const { demo, chromium } = running();
    await chromium.context.clearPermissions();
    const first = await watch(chromium, demo);
    const second = await watch(chromium, demo);
    expect((await viewers(demo)).map((viewer) => viewer.connectionState)).toEqual(['connected', 'connected']);
    await first.close();
    await until(async () => (await viewers(demo)).length === 1, 'the demo drops the browser that left', 10_000, 100);
    const decoded = await framesDecoded(second);
    await until(async () => (await framesDecoded(second)) >= decoded + 30, 'the remaining browser keeps receiving', 10_000, 100);
    await second.close();

    expect(demo.errors).toEqual([]);
    expect(demo.output.filter((line) => /error|warning|could not/i.test(line))).toEqual([]);
    expect(demo.output.some((line) => /connection connected/.test(line))).toBe(true);
    expect(demo.output.some((line) => /from the browser: \d+ video frames/.test(line))).toBe(true);
  }, 50_000);
});
