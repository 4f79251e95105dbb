// How a receiving WebRtcBin's jitterbuffers wait for packets that went missing.
// Measured on figure 8's 4 -> 0.5 Mbit/s link (docs/receiving.md), GStreamer
// 1.22's rtpjitterbuffer lost packets a browser recovers, for two reasons:
// - by default (`rtx-next-seqnum`) it also predicts when the packet after the
//   last one should arrive and asks for it (NACK) when it is late, before any
//   later packet showed it missing. Once the bottleneck queue fills, every
//   packet is later than predicted: 55 to 93 requests in 14 s, nearly all for
//   packets that were only queued, each answered by a copy that then competed
//   with the stream for the capped link (25 to 75 duplicates). A browser asks
//   only for packets a later one has shown missing; so do these jitterbuffers;
// - it gives a missing packet up at its expected time plus `latency` (200 ms),
//   and that expected time follows the fastest the path has been. With the
//   sender's pacer and the bottleneck queue holding packets 150 to 200 ms
//   longer after the cap drop, a gap was seen only 10 to 50 ms before its
//   deadline, and 12 of 13 packets given up arrived 10 to 180 ms later, resent.
//   A browser's receiver waits for the retransmission instead (its playout
//   delay grows); here the WebRtcBin's `latency` grows when packets it gave
//   up arrive after all, fast and up to a limit, and shrinks back slowly
//   after a quiet spell.
import { branchesOf, ignoreOutcome } from './branch.js';
import { native, type NativeObject } from './native.js';

/** webrtcbin's own default `latency`, in milliseconds: where the policy starts when none was given. */
export const DEFAULT_RECEIVE_LATENCY_MS = 200;

/** How much the latency grows each time packets came too late, in milliseconds: losses come in bursts, so it grows fast. */
export const LATENCY_GROWTH_MS = 200;

/** How much the latency shrinks after a quiet spell, in milliseconds: a playing sink skips that much of the picture. */
export const LATENCY_SHRINK_MS = 100;

/** The longest a receiving WebRtcBin's latency grows to by default, in milliseconds. */
export const DEFAULT_MAX_LATENCY_MS = 1000;

/** How often the jitterbuffers are looked at for packets that came too late, in milliseconds. */
const LOOK_INTERVAL_MS = 100;

/** Every this many looks, the webrtcbin's jitterbuffers are found again. */
const REFIND_LOOKS = 50;

/** After this long without a packet that came too late, the latency shrinks by LATENCY_SHRINK_MS (down to where it started). */
const QUIET_MS = 10_000;

/**
 * Makes every jitterbuffer of a webrtcbin ask for a retransmission only once a
 * later packet has shown the gap. Set on the pipeline's control thread
 * (setting it takes the jitterbuffer's lock, which its streaming thread holds);
 * call when a track appears (its jitterbuffer exists by then). Setting it again
 * on a jitterbuffer already set changes nothing.
 */
export function nackOnGapsOnly(pipeline: object, webrtcbin: NativeObject): void {
  const branches = branchesOf(pipeline);
  for (const element of native.binElements(webrtcbin)) {
    if (element.factoryName === 'rtpjitterbuffer') ignoreOutcome(branches.setLater(element, 'rtx-next-seqnum', false));
  }
}

/** Checks a `maxLatency` option: milliseconds (0 to 10^6), or null for a fixed latency. */
export function checkMaxLatency(maxLatency: unknown): asserts maxLatency is number | null | undefined {
  if (maxLatency === undefined || maxLatency === null) return;
  if (typeof maxLatency !== 'number' || !Number.isInteger(maxLatency) || maxLatency < 0 || maxLatency > 1e6) {
    throw new TypeError('maxLatency must be a whole number of milliseconds (0 to 10^6) or null');
  }
}

/** One webrtcbin's latency, shared by the policies of its tracks. */
interface LatencyState {
  initial: number;
  current: number;
  lastLate: number;
  /** Whether a policy watches this webrtcbin already (one per webrtcbin, whatever its tracks). */
  watched: boolean;
}

/** By pipeline, then by webrtcbin name (a pipeline's element names are unique). */
const states = new WeakMap<object, Map<string, LatencyState>>();

function stateOf(pipeline: object, webrtcbin: NativeObject, initial: number): LatencyState {
  let byName = states.get(pipeline);
  if (byName === undefined) states.set(pipeline, (byName = new Map()));
  const name = webrtcbin.name ?? '';
  let state = byName.get(name);
  if (state === undefined) byName.set(name, (state = { initial, current: initial, lastLate: Date.now(), watched: false }));
  return state;
}

/** What a jitterbuffer's `stats` say of packets that came after it had given them up. */
function lateCount(jitterbuffer: NativeObject): number {
  const stats = jitterbuffer.get('stats') as { 'num-late'?: unknown } | null;
  return Number(stats?.['num-late'] ?? 0);
}

/**
 * Grows the webrtcbin's `latency` (how long its jitterbuffers wait for a
 * missing packet; it starts at `initialMs`, the WebRtcBin's) by
 * LATENCY_GROWTH_MS whenever one of them gave a packet up that then arrived
 * (its `num-late`: a retransmission or a delayed packet that came too late),
 * up to `maxLatencyMs`; after QUIET_MS without one it shrinks by
 * LATENCY_SHRINK_MS, never below `initialMs`. A packet that never comes (a
 * sender that does not retransmit) grows nothing: waiting longer would only
 * hold the picture. Looks every LOOK_INTERVAL_MS on the JS thread: reading a
 * jitterbuffer's stats takes its lock, which its streaming threads hold for
 * microseconds at a time and never while they wait. The latency is set on the
 * pipeline's control thread (webrtcbin passes it to every jitterbuffer), and
 * the pipeline then recomputes its latency. One policy per webrtcbin (the first
 * track's limit holds); it stops when the pipeline closes or the webrtcbin
 * leaves it.
 */
export function growLatencyOnLatePackets(pipeline: { readonly closed: boolean }, webrtcbin: NativeObject, initialMs: number, maxLatencyMs: number): void {
  const branches = branchesOf(pipeline);
  const state = stateOf(pipeline, webrtcbin, initialMs);
  if (state.watched) return;
  state.watched = true;
  const name = webrtcbin.name ?? '';
  let jitterbuffers: NativeObject[] = [];
  let looks = 0;
  let seen = -1;
  const stop = () => {
    clearInterval(timer);
    jitterbuffers = [];
    states.get(pipeline)?.delete(name);
  };
  const look = () => {
    // Closed, or its WebRtcBin closed in a pipeline that goes on: let go of its jitterbuffers.
    if (pipeline.closed || webrtcbin.get('parent') === null) return stop();
    // A new sender SSRC gets a jitterbuffer of its own: look for them now and then (and have them NACK on gaps only).
    if (looks++ % REFIND_LOOKS === 0) {
      const known = new Set(jitterbuffers.map((jitterbuffer) => jitterbuffer.name));
      jitterbuffers = native.binElements(webrtcbin).filter((element) => element.factoryName === 'rtpjitterbuffer');
      for (const jitterbuffer of jitterbuffers) if (looks > 1 && !known.has(jitterbuffer.name)) ignoreOutcome(branches.setLater(jitterbuffer, 'rtx-next-seqnum', false));
    }
    const late = jitterbuffers.reduce((total, jitterbuffer) => total + lateCount(jitterbuffer), 0);
    const now = Date.now();
    let wanted = state.current;
    if (seen >= 0 && late > seen) {
      state.lastLate = now;
      wanted = Math.max(state.current, Math.min(maxLatencyMs, state.current + LATENCY_GROWTH_MS));
    } else if (state.current > state.initial && now - state.lastLate >= QUIET_MS) {
      state.lastLate = now;
      wanted = Math.max(state.initial, state.current - LATENCY_SHRINK_MS);
    }
    seen = Math.max(seen, late);
    if (wanted === state.current) return;
    state.current = wanted;
    ignoreOutcome(branches.setLater(webrtcbin, 'latency', wanted));
  };
  const timer = setInterval(() => {
    try {
      look();
    } catch {
      stop(); // an object gone with its pipeline (GstError): nothing left to watch
    }
  }, LOOK_INTERVAL_MS);
  timer.unref();
}
