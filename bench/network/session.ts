// One measured stream over the shaped link: a sender and a receiver (each a
// WebRtcBin or a Chromium page), wired by PeerConnector messages, run through a
// scenario. The receiver reports when each frame was decoded and how many bytes
// arrived; the measurement starts at its first decoded frame.
import { PeerConnector, type RtcStatsReport, type SessionPayload, type Track, WebRtcBin, type WebRtcBinOptions } from '../../lib/index.js';
import type { BrowserPeer, SignallingPeer } from '../../test/support/shaped-link-peers.js';
import type { ShapedLink } from '../../test/support/shaped-link.js';
import { meanRate, type Playback, playback, rateReached, smoothAfter } from './playback.js';
import type { Scenario } from './scenarios.js';

/** The receiving end of a measured stream. */
export interface MeasuredReceiver extends SignallingPeer {
  /** Epoch ms of every frame decoded so far. */
  frameTimes(): Promise<number[]>;
  /** Video RTP bytes and packets lost so far (inbound-rtp `bytesReceived`, `packetsLost`). */
  counters(): Promise<{ bytesReceived: number; packetsLost: number }>;
  /**
   * Whether counters() may be read every 250 ms while measuring. Not for a
   * WebRtcBin in this process: get-stats can hold the JS thread long enough to
   * delay the 10 ms frame polling into false freezes; it is read at start and end.
   */
  sampleCounters: boolean;
  /** The longest wait between two looks at the decoder in [start, end] (ms), when frames are polled; a freeze shorter than it may be the poll's. */
  longestPollGap?(start: number, end: number): number;
  close(): Promise<void>;
}

/** The sending end: it starts sending (and offering) when asked. */
export interface MeasuredSender extends SignallingPeer {
  start(): Promise<void>;
  /** Frames its encoder has produced so far. */
  framesEncoded(): Promise<number>;
  /** The encoder's target bitrate now, bit/s (what a controller last set). */
  targetBitrate(): Promise<number>;
  close(): Promise<void>;
}

/** What one stream measured. */
export interface StreamResult extends Playback {
  /** Mean bit/s of RTP delivered over the measurement. */
  bitrate: number;
  packetsLost: number;
  /** Cap drop to smooth playback (ms), null when it never got smooth; only with a cap drop. */
  adaptMs: number | null;
  /** Cap lift to 80% of the bitrate before the drop (ms), null when not reached; only with a cap lift. */
  recoverMs: number | null;
  /** Frames per second the sender's encoder produced over the measurement. */
  encodedFps: number;
  /** The sender's target bitrate at the end, bit/s. */
  targetBitrate: number;
  /** For a polled receiver: the longest wait between two polls (ms). */
  longestPollGapMs: number | null;
}

const DECODERS: Record<string, string> = { VP8: 'rtpvp8depay ! vp8dec', H264: 'rtph264depay ! avdec_h264', VP9: 'rtpvp9depay ! vpx9dec' };

function inboundVideo(report: RtcStatsReport): { bytesReceived: number; packetsLost: number } {
  let bytesReceived = 0;
  let packetsLost = 0;
  for (const stats of Object.values(report)) {
    if (stats.type !== 'inbound-rtp' || stats.kind === 'audio') continue;
    bytesReceived += typeof stats.bytesReceived === 'number' ? stats.bytesReceived : 0;
    packetsLost += typeof stats.packetsLost === 'number' ? stats.packetsLost : 0;
  }
  return { bytesReceived, packetsLost };
}

/**
 * A WebRtcBin on this side that answers, decodes and counts frames (polled every
 * 10 ms). `setup` may give its options, extra depayloader settings (e.g.
 * `wait-for-keyframe=true`) and a function that sees it first.
 */
export function webRtcBinReceiver(setup: { options?: WebRtcBinOptions; depayloader?: string; prepare?: (webrtcbin: WebRtcBin) => void } = {}): MeasuredReceiver {
  const webrtcbin = new WebRtcBin(setup.options);
  setup.prepare?.(webrtcbin);
  const times: number[] = [];
  const polls: number[] = [];
  let counted = 0;
  let sink: ReturnType<WebRtcBin['pipeline']['getElement']> | undefined;
  webrtcbin.on('track', (track: Track) => {
    const decoder = DECODERS[track.encodingName];
    if (decoder === undefined) return track.discard();
    track.link(`${setup.depayloader === undefined ? decoder : decoder.replace(/depay\b/, `depay ${setup.depayloader}`)} ! fakesink name=frames sync=false async=false`);
  });
  const poll = setInterval(() => {
    if (webrtcbin.closed) return;
    sink ??= webrtcbin.pipeline.getElement('frames') ?? undefined;
    const rendered = (sink?.get('stats') as { rendered?: number } | undefined)?.rendered ?? 0;
    const now = Date.now();
    polls.push(now);
    for (; counted < rendered; counted++) times.push(now);
  }, 10);
  let connector: PeerConnector | undefined;
  const receiver: MeasuredReceiver = {
    onSignal: () => undefined,
    async handle(message: SessionPayload) {
      connector ??= new PeerConnector(webrtcbin, { role: 'answerer', send: (reply) => receiver.onSignal(reply) });
      await connector.handle(message);
    },
    frameTimes: async () => times.slice(),
    counters: async () => inboundVideo(await webrtcbin.getStats()),
    sampleCounters: false,
    longestPollGap(start, end) {
      let longest = 0;
      for (let i = 1; i < polls.length; i++) if (polls[i] >= start && polls[i - 1] <= end) longest = Math.max(longest, polls[i] - polls[i - 1]);
      return longest;
    },
    async close() {
      clearInterval(poll);
      connector?.close();
      webrtcbin.close();
    },
  };
  return receiver;
}

/** A Chromium page that receives (it answers). */
export async function browserReceiver(peer: BrowserPeer): Promise<MeasuredReceiver> {
  await peer.start('receive');
  return {
    get onSignal() {
      return peer.onSignal;
    },
    set onSignal(send) {
      peer.onSignal = send;
    },
    handle: (message) => peer.handle(message),
    frameTimes: () => peer.frameTimes(),
    sampleCounters: true,
    async counters() {
      const stats = await peer.stats();
      return { bytesReceived: stats.bytesReceived, packetsLost: stats.packetsLost };
    },
    close: () => peer.close(),
  };
}

/** A Chromium page that sends its fake camera and offers. */
export function browserSender(peer: BrowserPeer): MeasuredSender {
  return {
    get onSignal() {
      return peer.onSignal;
    },
    set onSignal(send) {
      peer.onSignal = send;
    },
    handle: (message) => peer.handle(message),
    async start() {
      await peer.start('send');
      await peer.offer();
    },
    framesEncoded: async () => (await peer.stats()).framesEncoded,
    targetBitrate: async () => (await peer.stats()).targetBitrate,
    close: () => peer.close(),
  };
}

/** A WebRtcBin on this side that sends and offers (through PeerConnector, on negotiationneeded). */
export function webRtcBinSender(webrtcbin: WebRtcBin, elements: { encoder: string; encoded: string }, close: () => void): MeasuredSender {
  let connector: PeerConnector | undefined;
  const sender: MeasuredSender = {
    onSignal: () => undefined,
    handle: async (message) => connector?.handle(message),
    async start() {
      connector = new PeerConnector(webrtcbin, { role: 'offerer', send: (message) => sender.onSignal(message) });
    },
    framesEncoded: async () => (webrtcbin.pipeline.getElement(elements.encoded)?.get('stats') as { rendered?: number } | undefined)?.rendered ?? 0,
    targetBitrate: async () => Number(webrtcbin.pipeline.getElement(elements.encoder)?.get('target-bitrate') ?? 0),
    async close() {
      connector?.close();
      close();
    },
  };
  return sender;
}

/** The first cap drop of a scenario and the first lift after it. */
function capSteps(scenario: Scenario): { drop?: Scenario['changes'][number]; lift?: Scenario['changes'][number] } {
  let current = scenario.link.rate || Infinity;
  let drop: Scenario['changes'][number] | undefined;
  let lift: Scenario['changes'][number] | undefined;
  for (const change of scenario.changes) {
    const rate = change.rate || Infinity;
    if (drop === undefined && rate < current) drop = change;
    else if (drop !== undefined && lift === undefined && rate > drop.rate) lift = change;
    current = rate;
  }
  return { drop, lift };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs one stream through `scenario` on `link` and measures it at the receiver; closes both ends. */
export async function measureStream(link: ShapedLink, scenario: Scenario, sender: MeasuredSender, receiver: MeasuredReceiver): Promise<StreamResult> {
  link.setRate(scenario.link.rate ?? 0);
  link.setLoss(scenario.link.loss ?? 0);
  link.setRtt(scenario.link.rttMs ?? 0);
  const errors: Error[] = [];
  sender.onSignal = (message) => void receiver.handle(message).catch((error: Error) => errors.push(error));
  receiver.onSignal = (message) => void sender.handle(message).catch((error: Error) => errors.push(error));
  try {
    await sender.start();
    const deadline = Date.now() + 20_000;
    while ((await receiver.frameTimes()).length === 0) {
      if (Date.now() > deadline) throw new Error(`no frame decoded within 20 s${errors.length > 0 ? `: ${errors[0].message}` : ''}`);
      await sleep(50);
    }
    const start = Date.now();
    const atStart = await receiver.counters();
    const encodedAtStart = await sender.framesEncoded();
    const bytes: [number, number][] = [[start, atStart.bytesReceived]];
    const timers = scenario.changes.map((change) => setTimeout(() => link.setRate(change.rate), change.atMs));
    try {
      while (Date.now() < start + scenario.durationMs) {
        await sleep(Math.min(250, start + scenario.durationMs - Date.now()));
        if (receiver.sampleCounters) bytes.push([Date.now(), (await receiver.counters()).bytesReceived]);
      }
    } finally {
      timers.forEach(clearTimeout);
    }
    const end = start + scenario.durationMs;
    const times = await receiver.frameTimes();
    const counters = await receiver.counters();
    const encodedFps = ((await sender.framesEncoded()) - encodedAtStart) / ((Date.now() - start) / 1000);
    const targetBitrate = await sender.targetBitrate();
    bytes.push([Date.now(), counters.bytesReceived]);
    const { drop, lift } = capSteps(scenario);
    let adaptMs: number | null = null;
    let recoverMs: number | null = null;
    if (drop !== undefined) {
      const dropAt = start + drop.atMs;
      adaptMs = smoothAfter(times, dropAt, lift === undefined ? end : start + lift.atMs);
      if (lift !== undefined) {
        const before = meanRate(bytes, start + 1000, dropAt);
        recoverMs = rateReached(bytes, 0.8 * before, start + lift.atMs, end);
      }
    }
    return { ...playback(times, start, end), bitrate: meanRate(bytes, start, Infinity), packetsLost: counters.packetsLost - atStart.packetsLost, adaptMs, recoverMs, encodedFps, targetBitrate, longestPollGapMs: receiver.longestPollGap?.(start, end) ?? null };
  } finally {
    await sender.close();
    await receiver.close();
  }
}
