// The examples as a user runs them, each flag checked by its effect: camera-to-browser's --device,
// --codec, --bitrate and --audio; rtsp-to-webrtc's --transport and --latency; record-browser's --format mkv.
// A viewer that signals like the page (test/support/signalled-viewer.ts) stands in for the browser
// where only receiving matters; Chromium sends a camera where something must be recorded.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { allowCamera, type Chromium, launchChromium } from './support/chromium.js';
import { type CliProcess, ROOT, startNode } from './support/cli.js';
import { discover } from './support/discoverer.js';
import { startRtspServer } from './support/rtsp-server.js';
import { joinAsViewer, type SignalledViewer } from './support/signalled-viewer.js';
import { until } from './support/wait.js';

const OPEN = /open (http:\S+) in/;
const example = (name: string, args: string[]) => startNode(join(ROOT, 'examples', `${name}.mjs`), args);
const signallingUrl = (pageUrl: string) => `${pageUrl.replace('http:', 'ws:')}signalling`;

const running: { stop(): unknown }[] = [];
const viewers: SignalledViewer[] = [];
afterAll(async () => {
  for (const viewer of viewers.splice(0)) await viewer.close();
  for (const thing of running.splice(0).reverse()) await thing.stop();
});

function start(name: string, args: string[]): CliProcess {
  const run = example(name, args);
  running.push(run);
  return run;
}

async function watch(pageUrl: string): Promise<SignalledViewer> {
  const viewer = await joinAsViewer(signallingUrl(pageUrl));
  viewers.push(viewer);
  await viewer.negotiated;
  return viewer;
}

/** Bytes of video received per decoded frame, from the receiver's stats and its counting sink. */
async function bytesPerFrame(viewer: SignalledViewer): Promise<number> {
  const stats = Object.values(await viewer.receiver.webrtcbin.getStats());
  // By clock rate: webrtcbin 1.22's stats give the audio stream kind 'video' and the video's codec id.
  const video = stats.find((s) => s.type === 'inbound-rtp' && (s.gstRtpsourceStats as { clockRate?: number } | undefined)?.clockRate === 90000);
  return Number(video?.bytesReceived ?? 0) / viewer.receiver.videoFrames;
}

describe('camera-to-browser', () => {
  const hasCamera = readdirSync('/dev').some((name) => /^video\d+$/.test(name));
  it.skipIf(hasCamera)('with no options and no camera: a test pattern as H.264', async () => {
    const run = start('camera-to-browser', ['--port', '0']);
    const viewer = await watch(OPEN.exec(await run.line(OPEN))![1]);
    expect(run.output.some((line) => /sending a test pattern \(no camera found\) as H264/.test(line))).toBe(true);
    await until(() => viewer.receiver.videoFrames >= 15, 'the viewer decodes the test pattern');
    expect(viewer.receiver.tracks.map((track) => track.encodingName)).toEqual(['H264']);
    expect(await run.stop()).toBe(0);
  });

  it('--codec vp8 --bitrate --audio: the viewer receives VP8 at about that bitrate, and Opus', async () => {
    // Busy enough that the encoder spends all the bitrate it is given (about 5 kB a frame at 1500 kbit/s).
    const source = 'videotestsrc is-live=true pattern=smpte motion=wavy ! video/x-raw,width=320,height=240,framerate=30/1';
    const run = start('camera-to-browser', ['--source', source, '--codec', 'vp8', '--bitrate', '250', '--audio', 'audiotestsrc is-live=true', '--port', '0']);
    const viewer = await watch(OPEN.exec(await run.line(OPEN))![1]);
    await until(() => viewer.receiver.videoFrames >= 90 && viewer.receiver.audioBuffers >= 20, 'the viewer decodes video and audio');
    expect(viewer.receiver.tracks.map((track) => `${track.kind}/${track.encodingName}`).sort()).toEqual(['audio/OPUS', 'video/VP8']);
    // 250 kbit/s at 30 fps is about 1 kB a frame; the default 1500 kbit/s would be about 6 kB.
    expect(await bytesPerFrame(viewer)).toBeLessThan(2000);
    expect(await run.stop()).toBe(0);
  });

  it('--device opens that camera: one that does not exist is an error naming it', async () => {
    const run = start('camera-to-browser', ['--device', '/dev/video-gst-webrtc-node-test', '--port', '0']);
    const code = await run.exited;
    expect(code).toBe(1);
    expect(run.errors.join('\n')).toMatch(/^camera-to-browser: .*\/dev\/video-gst-webrtc-node-test/m);
  });

  it('refuses a codec it does not know (exit 2)', async () => {
    const run = start('camera-to-browser', ['--codec', 'h265', '--port', '0']);
    expect(await run.exited).toBe(2);
    expect(run.errors.join('\n')).toMatch(/--codec must be h264 or vp8, not h265/);
  });
});

describe('rtsp-to-webrtc', () => {
  it('--transport udp --latency: the camera is asked for UDP, and the viewer decodes its H.264', async () => {
    const camera = await startRtspServer();
    running.push(camera);
    const run = start('rtsp-to-webrtc', [camera.url, '--transport', 'udp', '--latency', '50', '--port', '0']);
    const viewer = await watch(OPEN.exec(await run.line(OPEN))![1]);
    await until(() => viewer.receiver.videoFrames >= 15, 'the viewer decodes the camera');
    expect(viewer.receiver.tracks.map((track) => track.encodingName)).toEqual(['H264']);
    expect(camera.setups.length).toBeGreaterThan(0);
    expect(camera.setups.filter((transport) => !/^RTP\/AVP;unicast;client_port=/.test(transport))).toEqual([]);
    expect(await run.stop()).toBe(0);
  });

  it('refuses an unknown --transport and a --latency that is not a number (exit 2)', async () => {
    const transport = start('rtsp-to-webrtc', ['rtsp://127.0.0.1:9/camera', '--transport', 'carrier-pigeon', '--port', '0']);
    expect(await transport.exited).toBe(2);
    expect(transport.errors.join('\n')).toMatch(/transport must be 'tcp', 'udp' or 'auto'/);
    const latency = start('rtsp-to-webrtc', ['rtsp://127.0.0.1:9/camera', '--latency', 'soon', '--port', '0']);
    expect(await latency.exited).toBe(2);
    expect(latency.errors.join('\n')).toMatch(/latency/);
  });
});

describe('record-browser --format mkv', () => {
  const directory = mkdtempSync(join(tmpdir(), 'gst-webrtc-node-recordings-'));
  let chromium: Chromium | undefined;
  beforeAll(async () => {
    chromium = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    await chromium?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it("writes the browser's camera and microphone to a Matroska file that plays, finished on SIGTERM", async () => {
    const run = start('record-browser', ['--dir', directory, '--format', 'mkv', '--port', '0']);
    const url = OPEN.exec(await run.line(OPEN))![1];
    await allowCamera(chromium!.context, new URL(url).origin);
    const page = await chromium!.context.newPage();
    await page.goto(url);
    await until(() => page.evaluate(() => (window as unknown as { demo?: { pc?: RTCPeerConnection } }).demo?.pc?.connectionState === 'connected'), 'the page is connected', 20_000, 100);
    await page.click('#camera');
    const recording = await run.line(/recording .* to (\S+\.mkv)$/);
    const path = /to (\S+\.mkv)$/.exec(recording)![1];
    const size = () => statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    await until(() => size() > 100_000, 'the recording grows past 100 kB', 40_000).catch((error: Error) => {
      throw new Error(`${error.message} (${size()} bytes)\n${[...run.output, ...run.errors].join('\n')}`);
    });
    // SIGTERM finishes the recordings before the example exits.
    expect(await run.stop()).toBe(0);
    expect(run.output.some((line) => line.includes(`saved ${path}`) && !/cut short/.test(line))).toBe(true);
    const file = await discover(path);
    expect(file.streams.sort()).toEqual(['audio: Opus', 'video: VP8']);
    expect(file.seekable).toBe(true);
    expect(file.duration).toBeGreaterThan(0);
    await page.close();
  }, 60_000);
});
