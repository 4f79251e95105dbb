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

/** Called on the JS thread for every event: target 0 is the pipeline's bus. */
export type NativeEventHandler = (target: number, type: string, data: Record<string, unknown> | null) => void;

export interface NativePipeline {
  setState(state: StateName): StateChangeResult;
  getState(): StateName;
  getElement(name: string): NativeObject | null;
  elementsByFactory(factory: string): NativeObject[];
  addBin(description: string): NativeObject;
  addElement(factory: string, name?: string): NativeObject;
  removeElement(element: NativeObject): void;
  link(src: NativeObject, sink: NativeObject): void;
  syncState(element: NativeObject): void;
  unblockPad(pad: NativeObject): void;
  sendEos(): boolean;
  recalculateLatency(): void;
  setKeepAlive(keepAlive: boolean): void;
  clockTime(): number | null;
  close(): void;
  readonly closed: boolean;
  // Dynamic pipelines: branches added and removed while playing (native/pipeline.cc).
  /** An element's always pad by name (a bin's ghost `src`/`sink`), or null. */
  getPad(element: NativeObject, name: string): NativeObject | null;
  /** A new request pad from a template, e.g. a tee's `src_%u`; give it back with releasePad(). */
  requestPad(element: NativeObject, template: string): NativeObject;
  /** Returns a request pad to its element. Idempotent. */
  releasePad(pad: NativeObject): void;
  /** Unlinks the pad from its peer once no data flows through it; `unlinked` is posted to the returned target. */
  unlinkWhenIdle(pad: NativeObject): number;
  /** Posts `eos` to the returned target whenever end-of-stream passes the pad; `drop` stops it there. */
  watchEos(pad: NativeObject, drop: boolean): number;
  /** Sends end-of-stream into a sink pad, from a GStreamer thread; false if the pad has no parent. */
  sendPadEos(pad: NativeObject): boolean;
  /** Asks the encoder upstream of the pad for a keyframe with headers; true if an element took the request. */
  forceKeyUnit(pad: NativeObject): boolean;
  /** Elements in the pipeline, at any depth. */
  countElements(): number;
  /** Makes a branch's ghost sink pad return OK whatever the branch does; its first failure is posted as `flow-error` to the returned target. */
  isolateFlow(ghostSinkPad: NativeObject): number;
  /** Removes a bin's ghost pad (e.g. the input parsing gave a source bin whose first link is dynamic). */
  removeGhostPad(pad: NativeObject): void;
}

export interface NativeWebRtcBin {
  readonly id: number;
  createOffer(promiseId: number): void;
  createAnswer(promiseId: number): void;
  setLocalDescription(promiseId: number, type: string, sdp: string): void;
  setRemoteDescription(promiseId: number, type: string, sdp: string): void;
  /** True when a reply will follow (GStreamer >= 1.24). */
  addIceCandidate(promiseId: number, sdpMLineIndex: number, candidate: string): boolean;
  getStats(promiseId: number): void;
  addTransceiver(direction: string, caps: string | null): NativeObject;
  getTransceivers(): NativeObject[];
  addTurnServer(uri: string): boolean;
  /** How many linked sink pads have no caps yet. */
  pendingSinkCaps(): number;
  createDataChannel(label: string, options: Record<string, unknown>): { channel: NativeObject; target: number };
  close(): void;
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
  setErrorClass(errorClass: typeof GstError): void;
  version(): { major: number; minor: number; micro: number };
  hasElement(factory: string): boolean;
  /** Records when buffers cross a pad (native/latency_probe.cc); used by the benchmarks. */
  LatencyProbe: new (element: NativeObject, padName: string, options?: LatencyProbeOptions) => NativeLatencyProbe;
}

export interface LatencyProbeOptions {
  /** Remove the probe after this many buffers; 0 (default) records until remove(). */
  limit?: number;
  /** Also record each buffer's RTP timestamp (the pad carries RTP packets). */
  rtp?: boolean;
}

/** A pad probe that records, per buffer: system clock time (ns, CLOCK_MONOTONIC), PTS (ns) and RTP timestamp; -1 where absent. */
export interface NativeLatencyProbe {
  /** The records since the last take(), three numbers per buffer. */
  take(): Float64Array;
  /** Removes the probe. Idempotent. */
  remove(): void;
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

/** The addon, loaded on first use. */
export const native: Addon = load();
