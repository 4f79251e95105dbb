// MediaFanOut: one source, encoded once, many WebRtcBin viewers that join and
// leave while the others keep playing. Each viewer is received by a standalone
// WebRtcBin that decodes what arrives (test/support/receiver.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';

import { type GstError, type IceCandidate, MediaFanOut, parseProfileLevelId, PeerConnector, Pipeline, sdpCodecs, type WebRtcBin } from '../lib/index.js';
import { rendered } from './support/media.js';
import { createReceiver, receive, type Receiver } from './support/receiver.js';
import { nextEvent, until } from './support/wait.js';
import { branchesOf } from '../lib/core/branch.js';
import { nativePipeline } from '../lib/core/pipeline-handle.js';

const open: { close(): void }[] = [];
afterEach(() => {
  for (const thing of open.splice(0).reverse()) thing.close();
});

const TEST_VIDEO = 'videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1';
const TEST_AUDIO = 'audiotestsrc is-live=true wave=sine';

function fanOut(options: ConstructorParameters<typeof MediaFanOut>[0]): MediaFanOut {
  const fan = new MediaFanOut(options);
  open.push(fan);
  return fan;
}

async function watch(viewer: WebRtcBin): Promise<Receiver> {
  const receiver = await receive(viewer);
  open.push(receiver);
  return receiver;
}

const encoders = (fan: MediaFanOut) => ['x264enc', 'openh264enc', 'vp8enc', 'opusenc'].flatMap((factory) => nativePipeline(fan.pipeline).elementsByFactory(factory).map(() => factory));
const threadCount = () => readdirSync('/proc/self/task').length;

/** Thread names and how many of each, for a failure message. */
function threadNames(): string {
  const counts = new Map<string, number>();
  for (const task of readdirSync('/proc/self/task')) {
    let name = '?';
    try {
      name = readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim();
    } catch {
      // the thread ended meanwhile
    }
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([name, count]) => `${name}×${count}`).join(', ');
}

/**
 * The thread count once it stops changing: closed WebRtcBins' threads (ICE,
 * DTLS, streaming) end shortly after close(), and GLib's pools retire idle
 * threads after a while.
 */
async function settledThreadCount(): Promise<number> {
  let last = threadCount();
  let stableSince = Date.now();
  await until(() => {
    const now = threadCount();
    if (now !== last) [last, stableSince] = [now, Date.now()];
    return Date.now() - stableSince >= 3000;
  }, 'the thread count settles', 40_000, 100);
  return last;
}
const teePads = (fan: MediaFanOut, kind: string) => fan.pipeline.getElement(`${kind}-tee`)!.get('num-src-pads') as number;

/** A small deterministic PRNG (mulberry32), so a failing soak can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('MediaFanOut', () => {
  it('encodes once and sends browser-ready H.264 and Opus to every viewer', async () => {
    const fan = fanOut({ video: { source: TEST_VIDEO }, audio: { source: TEST_AUDIO } });
    await fan.start();
    const receivers = [await watch(fan.addViewer()), await watch(fan.addViewer()), await watch(fan.addViewer())];
    await until(() => receivers.every((r) => r.videoFrames >= 15 && r.audioBuffers >= 15), 'every viewer decodes video and audio');

    // One video encoder and one audio encoder, whatever the number of viewers.
    expect(encoders(fan)).toHaveLength(2);
    expect(encoders(fan)).toEqual(expect.arrayContaining([expect.stringMatching(/^(x264enc|openh264enc)$/), 'opusenc']));
    expect(fan.viewers).toHaveLength(3);
    for (const receiver of receivers) expect(receiver.tracks.map((t) => t.encodingName).sort()).toEqual(['H264', 'OPUS']);

    // What browsers need: packetization-mode=1 and a constrained-baseline profile-level-id; sendonly.
    const offer = fan.viewers[0].localDescription!.sdp;
    const video = sdpCodecs(offer).find((codec) => codec.kind === 'video')!;
    expect(video).toMatchObject({ encodingName: 'H264', payloadType: 102, clockRate: 90000 });
    expect(video.fmtp['packetization-mode']).toBe('1');
    expect(parseProfileLevelId(video.fmtp['profile-level-id']).profile).toBe('constrained-baseline');
    expect(video.rtcpFeedback).toEqual(expect.arrayContaining(['nack pli', 'ccm fir']));
    expect(sdpCodecs(offer).find((codec) => codec.kind === 'audio')).toMatchObject({ encodingName: 'OPUS', payloadType: 111 });
    expect(offer.match(/\r\na=sendonly/g)).toHaveLength(2);
  });

  it('sends VP8 when asked to, also encoded once', async () => {
    const fan = fanOut({ video: { source: TEST_VIDEO, codec: 'VP8' } });
    await fan.start();
    const receivers = [await watch(fan.addViewer()), await watch(fan.addViewer())];
    await until(() => receivers.every((r) => r.videoFrames >= 15), 'both viewers decode VP8');
    expect(encoders(fan)).toEqual(['vp8enc']);
    expect(receivers[0].tracks.map((t) => t.encodingName)).toEqual(['VP8']);
  });

  it('gives a viewer that joins a keyframe at once, not at the next natural one', async () => {
    // No natural keyframe after the first: only the join's request can start a new viewer's picture.
    const fan = fanOut({ video: { source: TEST_VIDEO, keyframeInterval: 1_000_000 } });
    await fan.start();
    const first = await watch(fan.addViewer());
    await until(() => first.videoFrames >= 30, 'the first viewer decodes');
    const late = await watch(fan.addViewer());
    await until(() => late.videoFrames >= 15, 'the late viewer decodes');
    expect(first.videoFrames).toBeGreaterThan(late.videoFrames);
  });

  // Whether the viewer's media caps reach its webrtcbin before or after the
  // answer is made depends on timing; the next test forces the harder order.
  it('answers a viewer that makes the offer, with its payload type and m-line order', async () => {
    const fan = fanOut({ video: { source: TEST_VIDEO }, audio: { source: TEST_AUDIO } });
    await fan.start();
    const receiver = createReceiver();
    open.push(receiver);
    // A browser-like offer: audio first, and H.264 on payload type 125.
    receiver.webrtcbin.addTransceiver('audio', { direction: 'recvonly' });
    receiver.webrtcbin.addTransceiver(
      'application/x-rtp, media=video, encoding-name=VP8, payload=96, clock-rate=90000; ' +
        'application/x-rtp, media=video, encoding-name=H264, payload=125, clock-rate=90000, packetization-mode=(string)1, profile-level-id=(string)42e01f',
      { direction: 'recvonly' },
    );
    // The viewer is created when its offer arrives, as a server does for a browser that calls in.
    let answerer: PeerConnector | undefined;
    const offerer = new PeerConnector(receiver.webrtcbin, {
      role: 'offerer',
      send: (message) => {
        if (answerer === undefined && message.type === 'sdp') {
          const viewer = fan.addViewer({ remoteOffer: message.sdp });
          answerer = new PeerConnector(viewer, { role: 'answerer', send: (reply) => void offerer.handle(reply) });
        }
        void answerer?.handle(message);
      },
    });
    await until(() => receiver.videoFrames >= 15 && receiver.audioBuffers >= 15, 'the offerer decodes video and audio');
    const answer = receiver.webrtcbin.remoteDescription!;
    expect(answer.type).toBe('answer');
    const video = sdpCodecs(answer.sdp).find((codec) => codec.kind === 'video')!;
    expect(video).toMatchObject({ mlineIndex: 1, encodingName: 'H264', payloadType: 125 });
    expect(video.fmtp['packetization-mode']).toBe('1');
    expect(receiver.tracks.find((t) => t.kind === 'video')?.payloadType).toBe(125);
  });

  // webrtcbin 1.22 then intersects the offer with the payloader's caps, whose
  // profile-level-id comes from our SPS (42c015 here, not the offered 42e01f), and
  // whose profile (constrained-baseline) is what it compares when the offer allows
  // level asymmetry, as browsers' do (Chrome's first H.264 is baseline, 42001f).
  // Without care it answered with the offer's first format, VP8.
  for (const h264 of ['profile-level-id=(string)42e01f', 'profile-level-id=(string)42001f, level-asymmetry-allowed=(string)1']) {
    it(`answers with the offer's H.264 also when our stream's caps reached the viewer first (${h264.replace(/\(string\)/g, '')})`, async () => {
      const fan = fanOut({ video: { source: TEST_VIDEO }, audio: { source: TEST_AUDIO } });
      await fan.start();
      const receiver = createReceiver();
      open.push(receiver);
      receiver.webrtcbin.addTransceiver('audio', { direction: 'recvonly' });
      receiver.webrtcbin.addTransceiver(
        'application/x-rtp, media=video, encoding-name=VP8, payload=96, clock-rate=90000; ' +
          `application/x-rtp, media=video, encoding-name=H264, payload=125, clock-rate=90000, packetization-mode=(string)1, ${h264}`,
        { direction: 'recvonly' },
      );
      const offererCandidates: (IceCandidate | null)[] = [];
      const answererCandidates: (IceCandidate | null)[] = [];
      receiver.webrtcbin.on('icecandidate', (candidate) => offererCandidates.push(candidate));
      const offer = await receiver.webrtcbin.createOffer();
      await receiver.webrtcbin.setLocalDescription(offer);
      const viewer = fan.addViewer({ remoteOffer: offer });
      viewer.on('icecandidate', (candidate) => answererCandidates.push(candidate));
      // negotiationneeded fires once every sink pad of the viewer has caps.
      await nextEvent(viewer, 'negotiationneeded');
      await viewer.setRemoteDescription(offer);
      const answer = await viewer.createAnswer();
      expect(sdpCodecs(answer.sdp).find((codec) => codec.kind === 'video')).toMatchObject({ mlineIndex: 1, encodingName: 'H264', payloadType: 125 });
      await viewer.setLocalDescription(answer);
      await receiver.webrtcbin.setRemoteDescription(answer);
      await until(() => receiver.webrtcbin.iceGatheringState === 'complete' && viewer.iceGatheringState === 'complete', 'both sides gathered');
      for (const candidate of offererCandidates) await viewer.addIceCandidate(candidate);
      for (const candidate of answererCandidates) await receiver.webrtcbin.addIceCandidate(candidate);
      await until(() => receiver.videoFrames >= 15, 'the offerer decodes the H.264 video').catch((error: Error) => {
        throw new Error(`${error.message} (offerer ${receiver.webrtcbin.connectionState}, viewer ${viewer.connectionState}, ${receiver.videoFrames} frames, tracks ${receiver.tracks.map((t) => t.encodingName)})`);
      });
    });
  }

  it('refuses an offer that has no format for its video, naming what was offered', async () => {
    const fan = fanOut({ video: { source: TEST_VIDEO } });
    const receiver = createReceiver();
    open.push(receiver);
    receiver.webrtcbin.addTransceiver('application/x-rtp, media=video, encoding-name=VP8, payload=96, clock-rate=90000', { direction: 'recvonly' });
    const offer = await receiver.webrtcbin.createOffer();
    const before = fan.elementCount;
    expect(() => fan.addViewer({ remoteOffer: offer })).toThrow(/no format for our video \(H264\); it offers VP8\/96/);
    expect(fan.elementCount).toBe(before);
  });

  it('a branch that fails does not stop the tee feeding the others (isolateFlow)', async () => {
    // The native guard the fan-out puts in front of every viewer, on its own: a
    // branch that fails (here: an error after 5 buffers) would otherwise stop the source.
    const pipeline = new Pipeline('videotestsrc is-live=true ! video/x-raw,width=160,height=120 ! tee name=t allow-not-linked=true ! queue ! fakesink name=healthy sync=false');
    open.push(pipeline);
    const errors: GstError[] = [];
    pipeline.on('error', (error) => errors.push(error));
    await pipeline.play();
    await until(() => rendered(pipeline, 'healthy') >= 5, 'the healthy branch renders');
    const branches = branchesOf(pipeline);
    const broken = branches.addBin('identity error-after=5 ! fakesink sync=false');
    const failures: unknown[] = [];
    branches.isolateFlow(branches.pad(broken, 'sink')!, (flow) => failures.push({ type: 'flow-error', flow }));
    await branches.start(broken);
    branches.link(branches.requestPad(branches.element('t')!, 'src_%u'), broken);
    await until(() => failures.length > 0, 'the broken branch reports its failure');
    expect(failures).toEqual([{ type: 'flow-error', flow: 'error' }]);
    const frames = rendered(pipeline, 'healthy');
    await until(() => rendered(pipeline, 'healthy') >= frames + 15, 'the healthy branch keeps rendering');
    // The failing element still reports its error; only its flow return is contained.
    expect(errors.map((error) => error.source)).toEqual([expect.stringMatching(/^identity/)]);
  });

  it('removes a viewer, or one whose WebRtcBin was closed, without disturbing the others', async () => {
    const fan = fanOut({ video: { source: TEST_VIDEO }, audio: { source: TEST_AUDIO } });
    await fan.start();
    const baseline = fan.elementCount;
    const viewers = [fan.addViewer(), fan.addViewer(), fan.addViewer()];
    const receivers = await Promise.all(viewers.map(watch));
    await until(() => receivers.every((r) => r.videoFrames >= 10), 'every viewer decodes');
    expect(teePads(fan, 'video')).toBe(4);

    const names = viewers.map((viewer) => viewer.name);
    const removed: string[] = [];
    fan.on('viewerremoved', (viewer, reason) => removed.push(`${names[viewers.indexOf(viewer)]}:${reason}`));
    await fan.removeViewer(viewers[0]);
    expect(viewers[0].closed).toBe(true);
    const closing = nextEvent(fan, 'viewerremoved');
    viewers[1].close();
    await closing;
    expect(removed).toEqual([`${names[0]}:removed`, `${names[1]}:closed`]);
    expect(fan.viewers).toEqual([viewers[2]]);
    expect(teePads(fan, 'video')).toBe(2);
    expect(teePads(fan, 'audio')).toBe(2);

    const frames = receivers[2].videoFrames;
    await until(() => receivers[2].videoFrames >= frames + 15, 'the remaining viewer keeps decoding');
    await fan.removeViewer(viewers[2]);
    await fan.removeViewer(viewers[2]); // idempotent
    expect(fan.elementCount).toBe(baseline);
    expect(teePads(fan, 'video')).toBe(1);
  });

  it('soak: 10 viewers join and leave at random for 30 s; the others keep decoding; nothing leaks', async () => {
    const seed = Number(process.env.FAN_OUT_SEED ?? Date.now() % 100_000);
    const rand = random(seed);
    const fan = fanOut({ video: { source: TEST_VIDEO }, audio: { source: TEST_AUDIO } });
    const errors: GstError[] = [];
    fan.on('error', (error) => errors.push(error));
    await fan.start();
    // Warm up (GLib thread pools, plugin loading), then take the baseline.
    const warmUp = await watch(fan.addViewer());
    await until(() => warmUp.videoFrames > 0, 'the warm-up viewer decodes');
    await fan.removeViewer(fan.viewers[0]);
    warmUp.close();
    const baseline = { elements: fan.elementCount, threads: await settledThreadCount() };

    interface Slot {
      name: string;
      viewer: WebRtcBin;
      receiver: Receiver;
      lastFrames: number;
    }
    const active = new Set<Slot>();
    const stalls: string[] = [];
    let joins = 0;
    let leaves = 0;
    const leave = async (slot: Slot) => {
      active.delete(slot);
      leaves++;
      const how = rand();
      if (how < 0.4) await fan.removeViewer(slot.viewer);
      else if (how < 0.7) {
        // The application closes it; the fan-out cleans up on its own.
        const removed = nextEvent(fan, 'viewerremoved', (viewer) => viewer === slot.viewer);
        slot.viewer.close();
        await removed;
      }
      else {
        slot.receiver.close(); // the peer vanishes first, then the application notices
        await fan.removeViewer(slot.viewer);
      }
      slot.receiver.close();
    };

    const deadline = Date.now() + 30_000;
    let nextCheck = Date.now() + 2000;
    while (Date.now() < deadline) {
      if (active.size < 10 && (active.size < 2 || rand() < 0.55)) {
        const viewer = fan.addViewer();
        const receiver = await watch(viewer);
        active.add({ name: viewer.name, viewer, receiver, lastFrames: 0 });
        joins++;
      } else {
        await leave([...active][Math.floor(rand() * active.size)]);
      }
      await new Promise((resolve) => setTimeout(resolve, 200 + rand() * 800));
      if (Date.now() >= nextCheck) {
        // Every viewer decodes more than it had at the last check (bounded waits, not a frame-rate threshold).
        for (const slot of active) {
          const before = slot.lastFrames;
          await until(() => slot.receiver.videoFrames > before, `${slot.name} decodes more than ${before} frames`, 10_000).catch(() =>
            stalls.push(before > 0 ? `${slot.name} stalled at ${before} frames` : `${slot.name} decoded nothing`),
          );
          slot.lastFrames = slot.receiver.videoFrames;
        }
        nextCheck = Date.now() + 2000;
      }
    }
    for (const slot of [...active]) await leave(slot);
    expect(stalls, `seed ${seed}: ${stalls.join('; ')}`).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(joins, `seed ${seed}`).toBeGreaterThanOrEqual(10);
    expect(leaves).toBe(joins);

    expect(fan.viewers).toEqual([]);
    expect(fan.elementCount).toBe(baseline.elements);
    expect(teePads(fan, 'video')).toBe(1);
    expect(teePads(fan, 'audio')).toBe(1);
    // Closed viewers' threads end shortly after close(): wait until they are gone (or report what is left).
    await until(() => threadCount() <= baseline.threads, 'the thread count is back to its baseline', 40_000, 100).catch(() => undefined);
    expect(threadCount(), `seed ${seed}; threads: ${threadNames()}`).toBeLessThanOrEqual(baseline.threads);
    // The source kept running for the remaining viewers all along: it is still producing.
    const produced = fan.framesProduced.video!;
    await until(() => fan.framesProduced.video! > produced + 10, 'the source still produces frames');
  }, 90_000);
});

describe('MediaFanOut viewer isolation', () => {
  it('puts each viewer behind a leaky queue of maxViewerDelay', async () => {
    const fan = fanOut({ video: { source: TEST_VIDEO }, maxViewerDelay: 250 });
    await fan.start();
    const queuesBefore = new Set(nativePipeline(fan.pipeline).elementsByFactory('queue').map((queue) => queue.name));
    fan.addViewer();
    // A viewer's elements are made on the pipeline's native thread: they appear shortly after addViewer() returns.
    const newQueues = () => nativePipeline(fan.pipeline).elementsByFactory('queue').filter((queue) => !queuesBefore.has(queue.name));
    await until(() => newQueues().length > 0, "the viewer's queue is added");
    const viewerQueues = newQueues();
    expect(viewerQueues).toHaveLength(1);
    expect(viewerQueues[0].get('max-size-time')).toBe(250_000_000);
    expect(viewerQueues[0].get('leaky')).toBe('downstream');
    expect(() => fanOut({ video: { source: TEST_VIDEO }, maxViewerDelay: 0 })).toThrow(/maxViewerDelay/);
  });

  it('removes a viewer whose branch stops taking media, with an error event naming it; the other viewer keeps decoding', async () => {
    const fan = fanOut({ video: { source: TEST_VIDEO } });
    const errors: GstError[] = [];
    const removed: [WebRtcBin, string][] = [];
    fan.on('error', (error) => errors.push(error));
    fan.on('viewerremoved', (viewer, reason) => removed.push([viewer, reason]));
    await fan.start();
    const queuesBefore = new Set(nativePipeline(fan.pipeline).elementsByFactory('queue').map((queue) => queue.name));
    const failing = fan.addViewer();
    const failingName = failing.name; // a closed WebRtcBin no longer tells its name
    const newQueue = () => nativePipeline(fan.pipeline).elementsByFactory('queue').find((queue) => !queuesBefore.has(queue.name));
    await until(() => newQueue() !== undefined, "the viewer's queue is added"); // made on the pipeline's native thread
    const failingQueue = newQueue()!;
    const healthy = fan.addViewer();
    const [failingReceiver, healthyReceiver] = [await watch(failing), await watch(healthy)];
    await until(() => failingReceiver.videoFrames >= 10 && healthyReceiver.videoFrames >= 10, 'both viewers decode');

    // End of stream inside one viewer's branch: from then on it refuses buffers (flow 'eos'), which
    // would stop the tee, and so the source, for everyone.
    expect(nativePipeline(fan.pipeline).sendPadEos(nativePipeline(fan.pipeline).getPad(failingQueue, 'sink')!)).toBe(true);
    await until(() => removed.length > 0, 'the failing viewer is removed');
    expect(removed).toEqual([[failing, 'failed']]);
    expect(failing.closed).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0].source).toBe(failingName);
    expect(errors[0].message).toMatch(new RegExp(`^${failingName} stopped taking video \\(eos\\); it was removed, the other viewers are not affected`));
    const frames = healthyReceiver.videoFrames;
    await until(() => healthyReceiver.videoFrames >= frames + 15, 'the other viewer keeps decoding');
    expect(fan.viewers).toEqual([healthy]);
  });

  it('removes a viewer whose connection fails; the other viewer keeps decoding', async () => {
    const fan = fanOut({ video: { source: TEST_VIDEO } });
    const removed: [WebRtcBin, string][] = [];
    fan.on('viewerremoved', (viewer, reason) => removed.push([viewer, reason]));
    await fan.start();
    const healthy = fan.addViewer();
    const healthyReceiver = await watch(healthy);
    // A peer that answers but can be reached at no address: it gathers no candidate (relay-only, no
    // TURN server), and the only candidate it gives is a closed port on loopback. ICE fails.
    const failing = fan.addViewer();
    const unreachable = createReceiver({ iceTransportPolicy: 'relay' });
    open.push(unreachable);
    await failing.setLocalDescription(await failing.createOffer());
    await unreachable.webrtcbin.setRemoteDescription(failing.localDescription!);
    const answer = await unreachable.webrtcbin.createAnswer();
    await unreachable.webrtcbin.setLocalDescription(answer);
    await failing.setRemoteDescription(answer);
    await failing.addIceCandidate({ candidate: 'candidate:1 1 UDP 2122252543 127.0.0.1 9 typ host', sdpMLineIndex: 0 });
    await failing.addIceCandidate(null);
    await until(() => removed.length > 0, 'the viewer whose connection failed is removed', 30_000);
    expect(removed).toEqual([[failing, 'failed']]);
    expect(failing.closed).toBe(true);
    expect(fan.viewers).toEqual([healthy]);
    const frames = healthyReceiver.videoFrames;
    await until(() => healthyReceiver.videoFrames >= frames + 15, 'the other viewer keeps decoding');
  }, 45_000);
});
