// The native addon's surface, as the TypeScript layer sees it. Internal: users
// work with Pipeline, WebRtcBin and friends, never with these handles.
import { GstError } from './errors.js';
import { missingLibrariesError } from './missing-dependency.js';
import { packageRoot } from './package-root.js';

/** A GStreamer object (element, pad, transceiver, data channel) held by JS. */
export interface NativeObject {
  get(property: string): unknown;
  set(property: string, value: unknown): void;
  propertyNames(): string[];
  /** Whether the object is an instance of the named GType, e.g. `GstPad`. */
  is(typeName: string): boolean;
  readonly typeName: string;
  readonly name: string | null;
  readonly factoryName: string | null;
}

export type StateName = 'null' | 'ready' | 'paused' | 'playing';
export type StateChangeResult = 'success' | 'async' | 'no-preroll' | 'failure';

/** A native object's events: `target` 0 is the pipeline's bus; webrtcbins, data channels and branch watches get ids of their own. */
export type NativeEventHandler = (target: number, type: string, data: Record<string, unknown> | null) => void;

// --- Events, one union per kind of target (what native/*.cc posts) ---

/** error, warning and info messages from the bus share one shape. */
export type ProblemData = { error: GstError | string; debug?: string | null; source?: string | null };

/** Target 0: the pipeline's bus, and the completion of queued operations. */
export type BusEvent =
  | { type: 'error' | 'warning' | 'info'; data: ProblemData }
  | { type: 'eos'; data: null }
  | { type: 'state-changed'; data: { old: StateName; new: StateName; pending: StateName | 'void-pending' } }
  /** A queued operation (an id a NativePipeline method returned) has run on the pipeline's control thread. */
  | { type: 'done'; data: { id: number; result?: string; error?: GstError } };

/** A NativeWebRtcBin's target. */
export type WebRtcBinEvent =
  /** The answer to an action that took a promise id. */
  | { type: 'reply'; data: { id: number; result: 'replied' | 'expired' | 'interrupted'; reply?: Record<string, unknown> } }
  | { type: 'negotiation-needed'; data: null }
  | { type: 'ice-candidate'; data: { sdpMLineIndex: number; candidate: string } }
  | { type: 'state'; data: { property: string; value: string } }
  | { type: 'sink-caps'; data: null }
  | { type: 'track'; data: { pad: NativeObject; caps: string } }
  | { type: 'data-channel'; data: { channel: NativeObject; target: number } };

/** A data channel's target (native/data_channel.cc). */
export type DataChannelEvent =
  | { type: 'open' | 'close' | 'closing' | 'buffered-amount-low'; data: null }
  | { type: 'error'; data: { error: GstError } }
  | { type: 'message'; data: { data: string | Buffer } };

/** The target of a branch watch (native/pipeline_branches.cc: unlinkWhenIdle, watchEos, isolateFlow). */
export type BranchEvent =
  | { type: 'unlinked'; data: null }
  | { type: 'eos'; data: null }
  | { type: 'flow-error'; data: { flow: string } }
  | { type: 'keyframe-request'; data: { passed: boolean } };

/** Every kind of target, by name, with its events. */
export interface TargetEvents {
  webrtcbin: WebRtcBinEvent;
  'data-channel': DataChannelEvent;
  branch: BranchEvent;
}
export type TargetKind = keyof TargetEvents;

/**
 * A GstPipeline. Methods that return an operation id run on the pipeline's
 * native control thread, in call order; a `done` bus event with that id follows.
 * The others only create, find or link objects, and return at once.
 */
export interface NativePipeline {
  /** Operation id; `done.result` is a StateChangeResult. */
  setState(state: StateName): number;
  getState(): StateName;
  getElement(name: string): NativeObject | null;
  elementsByFactory(factory: string): NativeObject[];
  addBin(description: string): NativeObject;
  addElement(factory: string, name?: string): NativeObject;
  /**
   * addBin() on the control thread: the handle is usable at once (queued
   * operations find the bin; a synchronous use waits for it), `id` settles when
   * it is made, with the parse error if it could not be.
   */
  addBinLater(description: string): { element: NativeObject; id: number };
  /**
   * addElement() on the control thread, as addBinLater(); `settings` are
   * [property path, value as text] pairs applied before it is added (a path
   * may go through object-valued properties: `'ice-agent.agent.upnp'`; a
   * property the object lacks is skipped).
   */
  addElementLater(factory: string, name: string | null, settings?: [string, string][]): { element: NativeObject; id: number };
  /** Operation id: stops the element and removes it from its bin. */
  removeElement(element: NativeObject): number;
  link(src: NativeObject, sink: NativeObject): void;
  /** Operation id: link() on the control thread, also for handles still being created there; `done.error` if it cannot link. */
  linkLater(src: NativeObject, sink: NativeObject): number;
  /** Whether the sink pad accepts the caps the source pad already has (true when it has none). */
  acceptsCurrentCaps(srcPad: NativeObject, sinkPad: NativeObject): boolean;
  /** Undoes a link between two pads. Idempotent. */
  unlink(srcPad: NativeObject, sinkPad: NativeObject): void;
  /** Operation id: starts the element at its parent's state; `done.error` if it cannot. */
  syncState(element: NativeObject): number;
  /** Stops the element to READY and starts it with its parent again (control thread). */
  restartElement(element: NativeObject): number;
  /** Holds the data flowing through a src pad until unblockPad(). */
  blockPad(pad: NativeObject): void;
  /** Operation id: lets a held-back incoming track flow. */
  unblockPad(pad: NativeObject): number;
  /** Operation id; `done.result` is 'sent' or 'refused'. */
  sendEos(): number;
  /** Operation id: sets a property on the control thread (setting one takes the object's lock). Throws TypeError at once for a wrong name or value. */
  setProperty(object: NativeObject, name: string, value: unknown): number;
  setKeepAlive(keepAlive: boolean): void;
  clockTime(): number | null;
  /** Returns at once; the control thread stops and frees the pipeline, then ends. */
  close(): void;
  readonly closed: boolean;
  // Dynamic pipelines: branches added and removed while playing (native/pipeline_branches.cc).
  /** An element's always pad by name (a bin's ghost `src`/`sink`), or null. */
  getPad(element: NativeObject, name: string): NativeObject | null;
  /** A new request pad from a template, e.g. a tee's `src_%u`; give it back with releasePad(). */
  requestPad(element: NativeObject, template: string): NativeObject;
  /** requestPad() on the control thread: a pad handle usable at once (as addBinLater's), and the operation id (`done.error`: no such pad). */
  requestPadLater(element: NativeObject, template: string): { pad: NativeObject; id: number };
  /** Returns a request pad to its element. Idempotent. */
  releasePad(pad: NativeObject): void;
  /** Unlinks the pad from its peer once no data flows through it; `unlinked` is posted to the returned target. */
  unlinkWhenIdle(pad: NativeObject): number;
  /** Posts `eos` to the returned target whenever end-of-stream passes the pad; `drop` stops it there. */
  watchEos(pad: NativeObject, drop: boolean): number;
  /** Sends end-of-stream into a sink pad, from a GStreamer thread; false if the pad has no parent. */
  sendPadEos(pad: NativeObject): boolean;
  /** Asks the encoder upstream of the pad for a keyframe with headers, from a GStreamer thread; false if the pad has no parent. */
  forceKeyUnit(pad: NativeObject): boolean;
  /**
   * From now on keyframe requests going upstream through the pad pass at most once per interval
   * (native/keyframe_requests.cc). With `notify`, each is posted as `keyframe-request` { passed } to the
   * returned target (0 without `notify`). Null when the pad has a limit already: the first one stays.
   */
  limitKeyframeRequests(pad: NativeObject, minIntervalMs: number, notify: boolean): number | null;
  /** What limitKeyframeRequests() let through and dropped on a pad; null without a limit. */
  keyframeRequestCounts(pad: NativeObject): { forwarded: number; dropped: number } | null;
  /** Drops the buffers through this src pad until the first keyframe, which passes with all that follows (native/keyframe_requests.cc). */
  dropUntilKeyframe(pad: NativeObject): void;
  /** Elements in the pipeline, at any depth. */
  countElements(): number;
  /** Makes a branch's ghost sink pad return OK whatever the branch does; its first failure is posted as `flow-error` to the returned target. */
  isolateFlow(ghostSinkPad: NativeObject): number;
  /** Removes a bin's ghost pad (e.g. the input parsing gave a source bin whose first link is dynamic). */
  removeGhostPad(pad: NativeObject): void;
}

/**
 * A webrtcbin element. The actions that take a promise id are emitted on a
 * native thread of this webrtcbin's own, after the pipeline operations called
 * before them; each answers with a `reply` event of that id.
 */
/** A receiving transceiver a remote offer's m-section needs (see NativeWebRtcBin.setRemoteDescription). */
export interface ReceiverPlan {
  mid: string | null;
  caps: string;
  /** The m-section's media ('audio', 'video'): an unassociated transceiver of that kind (or of none yet) takes it. */
  kind: string;
}

export interface NativeWebRtcBin {
  readonly id: number;
  /** `videoNack`: first turn NACK/RTX (`do-nack`) on for every video transceiver, on the actions thread. */
  createOffer(promiseId: number, options?: { videoNack?: boolean }): void;
  createAnswer(promiseId: number, options?: { videoNack?: boolean }): void;
  /** Parsed on the actions thread: SDP that does not parse is a reply with a GstError (SdpUnparsable). */
  setLocalDescription(promiseId: number, type: string, sdp: string): void;
  /**
   * Parsed on the actions thread, as setLocalDescription.
   * `receivers`: the remote offer's m-sections that need a receiving transceiver
   * with these caps, unless one takes it already (by mid, else one not yet
   * associated of that kind or of none, as webrtcbin matches them); added on the actions thread just before.
   */
  setRemoteDescription(promiseId: number, type: string, sdp: string, receivers?: ReceiverPlan[]): void;
  /** Always true: a reply follows (on GStreamer 1.22, once webrtcbin has taken the candidate). */
  addIceCandidate(promiseId: number, sdpMLineIndex: number, candidate: string): boolean;
  getStats(promiseId: number): void;
  addTransceiver(direction: string, caps: string | null): NativeObject;
  getTransceivers(): NativeObject[];
  addTurnServer(uri: string): boolean;
  /** How many linked sink pads have no caps yet. */
  pendingSinkCaps(): number;
  /** The sink pads, each with the src pad linked to it and the element inside webrtcbin it feeds. */
  sinkPads(): { pad: NativeObject; peer: NativeObject | null; inner: NativeObject | null }[];
  /** Whether what is linked to the sink pad is live (a latency query upstream); null when nothing answers. */
  upstreamLive(pad: NativeObject): boolean | null;
  /** Queued on the actions thread: each input's clocksync stops syncing once what feeds it is live (no reply). */
  unpaceLiveInputs(): void;
  createDataChannel(label: string, options: Record<string, unknown>): { channel: NativeObject; target: number };
  close(): void;
}

/** The state of a GOP cache (native/gop_cache.cc). */
export interface GopCacheStats {
  /** Frames kept: the last keyframe and those after it. */
  frames: number;
  /** Their bytes. */
  bytes: number;
  /** The limit. */
  maxBytes: number;
  /** Keyframes seen (each one started a new group). */
  keyframes: number;
  /** Groups dropped because they outgrew maxBytes. */
  overflows: number;
  /** Replays done to joining viewers. */
  replays: number;
}

export interface Addon {
  NativePipeline: new (description: string | null, onEvent: NativeEventHandler) => NativePipeline;
  NativeWebRtcBin: new (pipeline: NativePipeline, element: NativeObject) => NativeWebRtcBin;
  dataChannelSend(channel: NativeObject, data: string | Buffer): void;
  dataChannelClose(channel: NativeObject): void;
  /** Bytes of that SCTP stream the webrtcbin's SCTP encoder has taken so far. */
  dataChannelBytesSent(webrtcbin: NativeObject, streamId: number): number;
  /** Teardown only: makes sends waiting in the webrtcbin's SCTP encoder give up. */
  dataChannelUnblock(webrtcbin: NativeObject): void;
  /** Flow control of received messages: hold the webrtcbin's SCTP input while more than `boundBytes` of its channels' messages wait for JS. */
  dataChannelLimitReceive(webrtcbin: NativeObject, channel: NativeObject, boundBytes: number): void;
  /** JS took a received message of `bytes` (the message event's `size`); -1: the channel closed, forget what it still counts. */
  dataChannelDelivered(channel: NativeObject, bytes: number): void;
  /**
   * Prepares the webrtcbin's SCTP encoder and decoder as it adds them: an association id no other live webrtcbin of
   * this process has (GStreamer 1.22 draws it at random and shares associations by id), and the peer's receive window
   * capped at `sendWindowBytes` (native/sctp_send_window.cc). Idempotent.
   */
  prepareSctpTransport(webrtcbin: NativeObject, sendWindowBytes: number): void;
  /** Records the group of pictures (last keyframe and what follows, at most `maxBytes`) flowing through `pad`; again: sets the limit. */
  gopCacheAttach(pad: NativeObject, maxBytes: number): void;
  /** At the next buffer through `targetPad`, pushes what `cachePad` recorded first (retimed); false without a cache. */
  gopCacheReplay(cachePad: NativeObject, targetPad: NativeObject): boolean;
  /** What the cache on `pad` holds, or null without one. */
  gopCacheStats(pad: NativeObject): GopCacheStats | null;
  setErrorClass(errorClass: typeof GstError): void;
  version(): { major: number; minor: number; micro: number };
  hasElement(factory: string): boolean;
  /** The DTLS transports the webrtcbin makes from now on present the certificate and key in `pem` (native/dtls_certificate.cc); once per webrtcbin. */
  dtlsCertificate(webrtcbin: NativeObject, pem: string): void;
  /**
   * Prepares the webrtcbin's ICE transports each time its gathering state changes (native/ice_transports.cc):
   * `bytes` of kernel send and receive buffer on their sockets, and their state kept in step with libnice's. Once per webrtcbin.
   */
  prepareIceTransports(webrtcbin: NativeObject, bytes: number): void;
  /** Every element inside a bin, at any depth (native/bin_elements.cc). */
  binElements(bin: NativeObject): NativeObject[];
  /** Gives each RTP session the webrtcbin makes from now on a pacer on its send path (native/pacer.cc). */
  pace(webrtcbin: NativeObject): void;
  /** The pacer's policy: bit/s, ms, bit/s of retransmissions, ms between two retransmissions of a packet, ms between two keyframe requests made for refused retransmissions. @throws TypeError when not paced. */
  setPacing(webrtcbin: NativeObject, settings: { rate: number; maxQueueMs: number; retransmitRate: number; retransmitIntervalMs: number; keyframeIntervalMs: number }): void;
  /** What the pacer sent, waited and let through; null when not paced. */
  pacingCounts(
    webrtcbin: NativeObject,
  ): { packets: number; bytes: number; waitedMs: number; retransmissionsPassed: number; retransmissionsDropped: number; keyframesRequested: number; backlogDropped: number } | null;
  /** The pacer drops what it holds now and asks for a keyframe (call once the transport has connected). @throws TypeError when not paced. */
  skipPacerBacklog(webrtcbin: NativeObject): void;
  /** Per-packet TWCC feedback since the last call: [seqnum, sentMs, arrivedMs (NaN: lost), bytes] per packet; null when not paced. */
  takeTransportFeedback(webrtcbin: NativeObject): Float64Array | null;
  /** Pipelines of this thread whose native control thread runs: open ones, and closed ones still stopping. */
  controlThreads(): number;
  /** Loads the WebRTC plugins and makes the DTLS certificate on a worker thread (native/warm_up.cc). */
  warmUp(): Promise<void>;
}

function load(): Addon {
  let addon: Addon;
  try {
    // node-gyp-build looks in prebuilds/ first, then build/Release.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = require('node-gyp-build')(packageRoot()) as Addon;
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('No native build was found')) {
      throw new Error(`gst-webrtc-node: the native addon is not built. Run \`npm run build:native\` in ${packageRoot()} (it needs the packages scripts/setup.sh installs).`, { cause: error });
    }
    throw missingLibrariesError(error);
  }
  addon.setErrorClass(GstError);
  return addon;
}

/** JS-thread time spent in one native method. */
export interface NativeCallStat {
  /** `Class.method` or the function's name. */
  name: string;
  count: number;
  /** Wall-clock time on the JS thread, all calls. */
  totalMs: number;
  /** The longest single call, wall-clock. */
  maxMs: number;
  /** With a thread-usage sampler: the most CPU time a single call used. */
  maxCpuMs?: number;
  /** With a thread-usage sampler: calls during which the JS thread blocked (a voluntary context switch: a lock, a wait). */
  blocked?: number;
  /** With a thread-usage sampler: the longest call that blocked, wall-clock. */
  maxBlockedMs?: number;
  /** With a thread-usage sampler: calls during which the JS thread was preempted (an involuntary context switch). */
  preempted?: number;
}

/** Writes the calling thread's [CPU ns, voluntary switches, involuntary switches] (getrusage RUSAGE_THREAD). */
export type ThreadUsageSampler = (out: Float64Array) => void;

const callStats = new Map<string, NativeCallStat>();
let sampler: ThreadUsageSampler | undefined;
const usageBefore = new Float64Array(3);
const usageAfter = new Float64Array(3);

function record(name: string, ms: number, usage?: { cpuMs: number; voluntary: number; involuntary: number }): void {
  let stat = callStats.get(name);
  if (stat === undefined) callStats.set(name, (stat = { name, count: 0, totalMs: 0, maxMs: 0 }));
  stat.count++;
  stat.totalMs += ms;
  if (ms > stat.maxMs) stat.maxMs = ms;
  if (usage === undefined) return;
  stat.maxCpuMs = Math.max(stat.maxCpuMs ?? 0, usage.cpuMs);
  stat.blocked = (stat.blocked ?? 0) + (usage.voluntary > 0 ? 1 : 0);
  if (usage.voluntary > 0) stat.maxBlockedMs = Math.max(stat.maxBlockedMs ?? 0, ms);
  stat.preempted = (stat.preempted ?? 0) + (usage.involuntary > 0 ? 1 : 0);
}

/** Runs `fn`, recording its JS-thread time under `name` (and its thread usage, with a sampler). */
function measure<T>(name: () => string, fn: () => T): T {
  // Nested native calls (a listener calling native code) are recorded on their own too; only the outermost samples usage.
  const sampling = sampler !== undefined && depth === 0;
  depth++;
  if (sampling) sampler!(usageBefore);
  const start = performance.now();
  try {
    return fn();
  } finally {
    const ms = performance.now() - start;
    depth--;
    if (sampling) {
      sampler!(usageAfter);
      record(name(), ms, {
        cpuMs: (usageAfter[0] - usageBefore[0]) / 1e6,
        voluntary: usageAfter[1] - usageBefore[1],
        involuntary: usageAfter[2] - usageBefore[2],
      });
    } else {
      record(name(), ms);
    }
  }
}
let depth = 0;

/** Methods whose first argument names what they touch (a property): recorded per argument, e.g. `NativeObject.get(local-description)`. */
const BY_FIRST_ARGUMENT = new Set(['NativeObject.get', 'NativeObject.set']);

function timed<F extends (...args: never[]) => unknown>(name: string, fn: F): F {
  const byArgument = BY_FIRST_ARGUMENT.has(name);
  return function (this: unknown, ...args: Parameters<F>) {
    return measure(
      () => (byArgument ? `${name}(${String(args[0])})` : name),
      () => fn.apply(this, args),
    );
  } as F;
}

let instrumented = false;

/**
 * From now on, records the JS-thread time of every native call: wraps every
 * native method and function (existing objects included). Event delivery is
 * recorded too, as `event:<type>` (conversion and listeners; for pipelines
 * made from now on). For the benchmarks, or GST_WEBRTC_NODE_CALL_STATS=1.
 * @param options.threadUsage a sampler of the JS thread's CPU time and context
 *   switches (the benchmarks' addon has one): each call then also records
 *   whether it blocked or was preempted, and its CPU time.
 */
export function enableNativeCallStats(options: { threadUsage?: ThreadUsageSampler } = {}): void {
  sampler ??= options.threadUsage;
  if (instrumented) return;
  instrumented = true;
  instrument(native);
}

function instrument(addon: Addon): void {
  const exports = addon as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value !== 'function' || name === 'setErrorClass') continue;
    const prototype = (value as { prototype?: object }).prototype;
    const methods = prototype === undefined ? [] : Object.getOwnPropertyNames(prototype).filter((key) => key !== 'constructor');
    if (methods.length === 0) {
      exports[name] = timed(name, value as (...args: never[]) => unknown);
      continue;
    }
    for (const method of methods) {
      const descriptor = Object.getOwnPropertyDescriptor(prototype, method)!;
      if (typeof descriptor.value === 'function') descriptor.value = timed(`${name}.${method}`, descriptor.value as (...args: never[]) => unknown);
      if (descriptor.get !== undefined) descriptor.get = timed(`${name}.${method}`, descriptor.get);
      Object.defineProperty(prototype, method, descriptor);
    }
    if (name === 'NativePipeline') {
      // The event callback: conversion to JS values happens in native code before it runs.
      const Constructor = value as new (description: string | null, onEvent: NativeEventHandler) => NativePipeline;
      const Wrapped = function (description: string | null, onEvent: NativeEventHandler) {
        return measure(
          () => `${name}.constructor`,
          () => new Constructor(description, (target, type, data) => measure(() => `event:${type}`, () => onEvent(target, type, data))),
        );
      };
      Wrapped.prototype = prototype;
      exports[name] = Wrapped;
    }
  }
}

/** The recorded JS-thread times of native calls, slowest total first (empty unless GST_WEBRTC_NODE_CALL_STATS=1). */
export function nativeCallStats(): NativeCallStat[] {
  return [...callStats.values()].sort((a, b) => b.totalMs - a.totalMs).map((stat) => ({ ...stat }));
}

/** Forgets the recorded times. */
export function resetNativeCallStats(): void {
  callStats.clear();
}

/** The addon, loaded on first use. */
export const native: Addon = load();
if (process.env.GST_WEBRTC_NODE_CALL_STATS === '1') enableNativeCallStats();
