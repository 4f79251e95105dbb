// WebRtcRecorder: what a peer sends to a WebRtcBin, recorded to a file without
// decoding, finished properly on stop() and when the peer vanishes; checked
// with gst-discoverer-1.0, as a player would read it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { PeerConnector, type RecordingResult, WebRtcBin, WebRtcRecorder } from '../lib/index.js';
import { discover } from './support/discoverer.js';
import { OPUS_SOURCE, VP8_SOURCE } from './support/media.js';
import { nextEvent, until } from './support/wait.js';
import { nativePipeline } from '../lib/core/pipeline-handle.js';

const directory = mkdtempSync(join(tmpdir(), 'gst-webrtc-node-record-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const open: { close(): void }[] = [];
afterEach(() => {
  for (const thing of open.splice(0).reverse()) thing.close();
});

// A keyframe a second: a recording starts at a keyframe, and one lost while the
// connection comes up must not leave the recording waiting for the next natural one.
const VP8_RECORDED = VP8_SOURCE.replace('vp8enc deadline=1', 'vp8enc deadline=1 keyframe-max-dist=30');

const H264_SOURCE =
  'videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! ' +
  'x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! video/x-h264,profile=constrained-baseline ! rtph264pay pt=102 config-interval=-1';

/** A sender (the browser's stand-in) and a receiving WebRtcBin with a recorder, negotiated. */
async function call(sources: string[], path: string, options: { idleTimeout?: number } = {}) {
  const sender = new WebRtcBin();
  const receiver = new WebRtcBin({ latency: 100 });
  open.push(sender, receiver);
  for (const source of sources) sender.addTrack(source);
  const recorder = new WebRtcRecorder(receiver, { path, ...options });
  const started = nextEvent(recorder, 'start');
  await PeerConnector.pair(sender, receiver);
  await started;
  return { sender, receiver, recorder, startedAt: seconds(receiver) };
}

/** The receiving pipeline's running time in seconds: the media clock the recording follows. */
function seconds(receiver: WebRtcBin): number {
  return (receiver.pipeline.runningTime ?? 0) / 1e9;
}

describe('WebRtcRecorder', () => {
  it('records VP8 and Opus to a WebM file that plays, with the duration recorded', async () => {
    const path = join(directory, 'call.webm');
    const { receiver, recorder, startedAt } = await call([VP8_RECORDED, OPUS_SOURCE], path);
    expect(recorder.state).toBe('recording');
    await until(() => seconds(receiver) - startedAt >= 3, 'three seconds of running time are recorded');
    const result = await recorder.stop();
    const stoppedAt = seconds(receiver);
    expect(result).toMatchObject({ path, finalized: true, reason: 'stopped' });
    expect(result.tracks.map((t) => `${t.kind}/${t.encodingName}`).sort()).toEqual(['audio/OPUS', 'video/VP8']);
    expect(result.bytes).toBeGreaterThan(10_000);
    expect(await recorder.stop()).toBe(result); // idempotent

    const file = await discover(path);
    expect(file.streams.sort()).toEqual(['audio: Opus', 'video: VP8']);
    expect(file.seekable).toBe(true); // finished: it has an index
    expect(file.duration).toBeGreaterThanOrEqual(2.5);
    expect(file.duration).toBeLessThanOrEqual(stoppedAt - startedAt + 1);
    // The call goes on after the recording, and the ended branches raise no errors.
    const errors: Error[] = [];
    receiver.pipeline.on('error', (error) => errors.push(error));
    const packets = async () => Object.values(await receiver.getStats()).reduce((sum, s) => sum + (s.type === 'inbound-rtp' ? Number(s.packetsReceived) : 0), 0);
    const before = await packets();
    await until(async () => (await packets()) > before + 100, 'packets keep arriving after the recording stopped');
    expect(receiver.connectionState).toBe('connected');
    expect(errors).toEqual([]);
  });

  it('finishes the file on its own when the sender vanishes without a word', async () => {
    const path = join(directory, 'vanished.webm');
    const { sender, receiver, recorder, startedAt } = await call([VP8_RECORDED, OPUS_SOURCE], path, { idleTimeout: 1500 });
    await until(() => seconds(receiver) - startedAt >= 2, 'two seconds of running time are recorded');
    const stopped = nextEvent<[RecordingResult]>(recorder, 'stop', () => true, 15_000);
    const vanishedAt = seconds(receiver);
    sender.close(); // no BYE, no signalling: the packets just stop
    const [result] = await stopped;
    expect(result).toMatchObject({ finalized: true, reason: 'idle' });
    const file = await discover(path);
    expect(file.streams.sort()).toEqual(['audio: Opus', 'video: VP8']);
    expect(file.duration).toBeGreaterThanOrEqual(1.5);
    expect(file.duration).toBeLessThanOrEqual(vanishedAt - startedAt + 1);
  });

  it('records H.264 to Matroska without decoding it', async () => {
    const path = join(directory, 'call.mkv');
    const { receiver, recorder, startedAt } = await call([H264_SOURCE], path);
    await until(() => seconds(receiver) - startedAt >= 2, 'two seconds of running time are recorded');
    const result = await recorder.stop();
    expect(result).toMatchObject({ finalized: true, tracks: [{ kind: 'video', encodingName: 'H264' }] });
    for (const decoder of ['avdec_h264', 'openh264dec']) expect(nativePipeline(receiver.pipeline).elementsByFactory(decoder)).toHaveLength(0);
    const file = await discover(path);
    expect(file.streams).toEqual([expect.stringMatching(/^video: H\.264/)]);
    expect(file.duration).toBeGreaterThanOrEqual(1.5);
  });

  it('refuses a file type it cannot write, and warns about a codec the container cannot hold', async () => {
    const receiver = new WebRtcBin();
    open.push(receiver);
    expect(() => new WebRtcRecorder(receiver, { path: join(directory, 'call.mp4') })).toThrow(/\.webm, \.mkv or \.mka/);

    const path = join(directory, 'h264.webm');
    const sender = new WebRtcBin();
    open.push(sender);
    sender.addTrack(H264_SOURCE);
    const recorder = new WebRtcRecorder(receiver, { path, trackWait: 500 });
    const warned = nextEvent(recorder, 'warning');
    await PeerConnector.pair(sender, receiver);
    const [warning] = await warned;
    expect(String(warning)).toMatch(/H264 video cannot be recorded to \.webm \(use \.mkv\)/);
    const result = await recorder.stop();
    expect(result).toMatchObject({ tracks: [], bytes: 0, finalized: false });
  });
});
