// Records what a peer sends to a WebRtcBin into one WebM or Matroska file,
// without decoding: each track is depayloaded and muxed as it arrived.
import { statSync } from 'node:fs';
import { extname } from 'node:path';

import { Element } from '../core/element.js';
import { GstError, InvalidStateError } from '../core/errors.js';
import { missingElementError } from '../core/missing-dependency.js';
import { branchesOf } from '../core/branch.js';
import { native as addon, type NativeObject } from '../core/native.js';
import type { Disposable } from '../core/pipeline-handle.js';
import { SafeEmitter, type ListenerErrorEvent } from '../core/safe-emitter.js';
import type { Track } from '../core/track.js';
import type { MediaKind } from '../core/types.js';
import type { WebRtcBin } from '../core/webrtcbin.js';

/** Where a WebRtcRecorder writes, and when it gives up waiting. */
export interface WebRtcRecorderOptions {
  /**
   * The file to write. Its extension picks the container: `.webm` (VP8, VP9,
   * Opus: what browsers send by default) or `.mkv`/`.mka` (also H.264).
   */
  path: string;
  /**
   * After the first track arrives, how long to wait for the others the
   * negotiation announced (a muxer takes all its tracks before it writes).
   * Default 3000 ms; tracks that come later are not recorded.
   */
  trackWait?: number;
  /** Stop on its own when no packet arrived for this long: the peer vanished. Default 5000 ms; 0 never. */
  idleTimeout?: number;
  /** How long stop() waits for the muxer to finish the file. Default 5000 ms. */
  stopTimeout?: number;
}

/** What was recorded. */
export interface RecordingResult {
  /** The file, as given. It does not exist when no track arrived. */
  path: string;
  /** The recorded tracks. */
  tracks: { kind: MediaKind; encodingName: string }[];
  /** Whether the muxer finished the file (index, duration); false when it had to be cut short. */
  finalized: boolean;
  /** The file's size. */
  bytes: number;
  /** Why it stopped: stop() was called, no packet for `idleTimeout`, the connection failed, or the WebRtcBin closed first. */
  reason: RecordingStopReason;
}

/** Why a recording stopped (see RecordingResult.reason). */
export type RecordingStopReason = 'stopped' | 'idle' | 'failed' | 'closed';

/** waiting (for tracks), recording, stopping (finishing the file), stopped. */
export type RecorderState = 'waiting' | 'recording' | 'stopping' | 'stopped';

/** Events of a WebRtcRecorder. */
export interface WebRtcRecorderEvents extends ListenerErrorEvent {
  /** Recording started with these tracks (the file is being written). */
  start: [tracks: Track[]];
  /** A track could not be recorded (a codec the container cannot hold, or it came after the start); it is discarded. */
  warning: [error: GstError];
  /** The file is complete (or as complete as it could be made). Emitted once. */
  stop: [result: RecordingResult];
}

interface Container {
  muxer: 'webmmux' | 'matroskamux';
  codecs: Set<string>;
}

const CONTAINERS: Record<string, Container> = {
  '.webm': { muxer: 'webmmux', codecs: new Set(['VP8', 'VP9', 'OPUS']) },
  '.mkv': { muxer: 'matroskamux', codecs: new Set(['VP8', 'VP9', 'H264', 'OPUS']) },
  '.mka': { muxer: 'matroskamux', codecs: new Set(['OPUS']) },
};

/** Depayloading (and parsing) without decoding; depayloaders drop what precedes the first keyframe. */
const DEPAYLOADERS: Record<string, (name: string) => string> = {
  VP8: (name) => `rtpvp8depay name=${name} wait-for-keyframe=true request-keyframe=true`,
  VP9: (name) => `rtpvp9depay name=${name} wait-for-keyframe=true request-keyframe=true`,
  H264: (name) => `rtph264depay name=${name} wait-for-keyframe=true request-keyframe=true ! h264parse`,
  // opusparse: browsers' Opus caps lack the rate, which the muxers need.
  OPUS: (name) => `rtpopusdepay name=${name} ! opusparse`,
};

let recorders = 0;

const IDLE_POLL_MS = 1000;

/**
 * Records the tracks a peer sends to a WebRtcBin into one file, as they
 * arrive (no decoding, no encoding). The file is finished properly (index,
 * duration) on stop(), when no packet arrived for `idleTimeout` (a peer that
 * vanished without a word), or when the connection fails. Call stop() before
 * closing the WebRtcBin: closing it first cuts the file short.
 *
 * ```ts
 * const recorder = new WebRtcRecorder(webrtcbin, { path: 'call.webm' });
 * recorder.on('stop', (result) => console.log(`saved ${result.path}`));
 * // ... negotiate; when the session ends:
 * await recorder.stop();
 * webrtcbin.close();
 * ```
 */
export class WebRtcRecorder extends SafeEmitter<WebRtcRecorderEvents> {
  /** The file being written. */
  readonly path: string;
  private readonly container: Container;
  private readonly settings: Required<Omit<WebRtcRecorderOptions, 'path'>>;
  private currentState: RecorderState = 'waiting';
  private readonly pending: Track[] = [];
  private readonly recorded: { track: Track; branch: Element; depayloader: string }[] = [];
  private readonly id = ++recorders;
  private muxer: NativeObject | null = null;
  private fileSink: NativeObject | null = null;
  private eosWatch: Disposable | null = null;
  private trackTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private packets = -1;
  private lastPacketAt = Date.now();
  private stopping: Promise<RecordingResult> | undefined;
  /** Set while stop() waits for end-of-stream to reach the file sink. */
  private onFileEos: (() => void) | undefined;
  private readonly onTrack = (track: Track): void => this.addTrack(track);
  private readonly onConnectionState = (state: string): void => {
    if (state === 'failed') void this.finish('failed');
  };
  private readonly onClose = (): void => void this.finish('closed');

  /**
   * Starts listening for the WebRtcBin's incoming tracks: create it before the
   * negotiation, so no track is missed.
   * @throws TypeError for an unsupported extension or invalid options; MissingDependencyError when the muxer is missing.
   */
  constructor(
    readonly webrtcbin: WebRtcBin,
    options: WebRtcRecorderOptions,
  ) {
    super();
    if (typeof options !== 'object' || options === null || typeof options.path !== 'string' || options.path === '') {
      throw new TypeError('WebRtcRecorder needs options { path }');
    }
    const container = CONTAINERS[extname(options.path).toLowerCase()];
    if (container === undefined) throw new TypeError(`record to a .webm, .mkv or .mka file, not ${JSON.stringify(options.path)}`);
    if (!addon.hasElement(container.muxer)) throw missingElementError(container.muxer);
    this.path = options.path;
    this.container = container;
    this.settings = { trackWait: options.trackWait ?? 3000, idleTimeout: options.idleTimeout ?? 5000, stopTimeout: options.stopTimeout ?? 5000 };
    for (const [name, value] of Object.entries(this.settings)) {
      if (!Number.isInteger(value) || value < 0) throw new TypeError(`${name} must be a non-negative integer (milliseconds)`);
    }
    if (webrtcbin.closed) throw new InvalidStateError('the WebRtcBin is closed');
    webrtcbin.on('track', this.onTrack);
    webrtcbin.on('connectionstatechange', this.onConnectionState);
    webrtcbin.once('close', this.onClose);
    if (this.settings.idleTimeout > 0) this.idleTimer = setInterval(() => void this.checkIdle(), IDLE_POLL_MS);
  }

  /** waiting (for tracks), recording, stopping, stopped. */
  get state(): RecorderState {
    return this.currentState;
  }

  /**
   * Finishes the file: end-of-stream through every track, then the muxer
   * writes its index and duration. Resolves with what was recorded.
   * Idempotent: later calls get the same result.
   */
  stop(): Promise<RecordingResult> {
    return this.finish('stopped');
  }

  private addTrack(track: Track): void {
    if (this.currentState !== 'waiting') {
      this.warn(`a ${track.kind} track (${track.encodingName}) arrived after the recording started; it is not recorded`);
      track.discard();
      return;
    }
    if (!this.container.codecs.has(track.encodingName) || DEPAYLOADERS[track.encodingName] === undefined) {
      this.warn(`${track.encodingName} ${track.kind} cannot be recorded to ${extname(this.path)}${track.encodingName === 'H264' ? ' (use .mkv)' : ''}; it is not recorded`);
      track.discard();
      return;
    }
    this.pending.push(track);
    if (this.pending.length >= this.expectedTracks()) this.start();
    else this.trackTimer ??= setTimeout(() => this.start(), this.settings.trackWait);
  }

  /** Audio and video m-lines the peer sends on, by the remote description. */
  private expectedTracks(): number {
    const sdp = this.webrtcbin.remoteDescription?.sdp ?? '';
    return sdp
      .split(/\r?\n(?=m=)/)
      .slice(1)
      .filter((section) => /^m=(audio|video) /.test(section))
      .filter((section) => !/^m=\S+ 0 /.test(section) || /\r?\na=bundle-only/.test(section))
      .filter((section) => !/\r?\na=(recvonly|inactive)/.test(section)).length;
  }

  /** Builds muxer and file sink, then links every pending track into it (all muxer pads exist before any data flows). */
  private start(): void {
    clearTimeout(this.trackTimer);
    if (this.currentState !== 'waiting' || this.pending.length === 0 || this.webrtcbin.closed) return;
    this.currentState = 'recording';
    const pipeline = this.webrtcbin.pipeline;
    const branches = branchesOf(pipeline);
    try {
      const muxer = branches.addElement(this.container.muxer);
      this.muxer = muxer;
      muxer.set('offset-to-zero', true);
      const fileSink = branches.addElement('filesink');
      this.fileSink = fileSink;
      fileSink.set('location', this.path);
      fileSink.set('async', false);
      branches.link(muxer, fileSink);
      this.eosWatch = branches.watchEos(branches.pad(fileSink, 'sink')!, false, () => this.onFileEos?.());
      // Downstream first; the tracks' branches start after these, on the pipeline's native thread.
      branches.startInBackground(fileSink);
      branches.startInBackground(muxer);
      const tracks = this.pending.splice(0);
      const pads = tracks.map((track) => branches.requestPad(muxer, track.kind === 'video' ? 'video_%u' : 'audio_%u'));
      tracks.forEach((track, index) => {
        const depayloader = `recorder${this.id}-${track.kind}${index}`;
        const description = `${DEPAYLOADERS[track.encodingName](depayloader)} ! queue max-size-time=3000000000 max-size-bytes=0 max-size-buffers=0`;
        // Isolated: once stop() ended the branch it answers EOS, and webrtcbin must
        // see OK, or its receiving side (and so the whole call) would stop with it.
        const branch = track.link(description, { downstream: new Element(pads[index], pipeline), isolate: true });
        this.recorded.push({ track, branch, depayloader });
      });
      this.dispatch('start', tracks);
    } catch (error) {
      this.warn(`could not start recording to ${this.path}: ${(error as Error).message}`);
      void this.finish('stopped');
    }
  }

  private async checkIdle(): Promise<void> {
    if (this.currentState === 'stopping' || this.currentState === 'stopped' || this.webrtcbin.closed) return;
    let packets = 0;
    try {
      for (const stats of Object.values(await this.webrtcbin.getStats())) {
        if (stats.type === 'inbound-rtp') packets += Number(stats.packetsReceived ?? 0);
      }
    } catch {
      return; // closed meanwhile
    }
    const now = Date.now();
    if (packets !== this.packets) {
      this.packets = packets;
      this.lastPacketAt = now;
    } else if (this.currentState === 'recording' && now - this.lastPacketAt >= this.settings.idleTimeout) {
      void this.finish('idle');
    }
  }

  private finish(reason: RecordingStopReason): Promise<RecordingResult> {
    this.stopping ??= this.finalize(reason);
    return this.stopping;
  }

  private async finalize(reason: RecordingStopReason): Promise<RecordingResult> {
    const wasRecording = this.currentState === 'recording';
    this.currentState = 'stopping';
    clearTimeout(this.trackTimer);
    clearInterval(this.idleTimer);
    this.webrtcbin.off('track', this.onTrack);
    this.webrtcbin.off('connectionstatechange', this.onConnectionState);
    this.webrtcbin.off('close', this.onClose);
    for (const track of this.pending.splice(0)) if (!this.webrtcbin.closed) track.discard();

    let finalized = false;
    const pipeline = this.webrtcbin.pipeline;
    if (wasRecording && !pipeline.closed) {
      const branches = branchesOf(pipeline);
      // EOS into each track's branch, not the whole pipeline: the muxer finishes
      // the file once every input ended, then the EOS reaches the file sink.
      const fileDone = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), this.settings.stopTimeout);
        this.onFileEos = () => {
          clearTimeout(timer);
          resolve(true);
        };
        pipeline.once('close', () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      // Into the depayloader, not the branch's own input: a pad that took EOS refuses
      // data itself, before its guard (isolateFlow) could turn the refusal into OK.
      for (const { depayloader } of this.recorded) {
        const depay = branches.element(depayloader);
        const input = depay === null ? null : branches.pad(depay, 'sink');
        if (input !== null) branches.sendEos(input);
      }
      finalized = await fileDone;
      this.onFileEos = undefined;
      // Stopping the file sink closes the file; downstream first, so nothing waits on a stopped muxer.
      this.eosWatch?.dispose();
      if (!pipeline.closed) {
        const removals = [this.fileSink, this.muxer].filter((element) => element !== null).map((element) => branches.remove(element));
        // The file is complete once the file sink has stopped; a pipeline closed meanwhile stops it too.
        await Promise.all(removals).catch(() => undefined);
      }
    }
    // Otherwise the WebRtcBin's pipeline closed first and stopped the file sink mid-file: not finalized.
    this.currentState = 'stopped';
    const result: RecordingResult = {
      path: this.path,
      tracks: this.recorded.map(({ track }) => ({ kind: track.kind, encodingName: track.encodingName })),
      finalized,
      bytes: fileSize(this.path),
      reason,
    };
    this.dispatch('stop', result);
    return result;
  }

  private warn(message: string): void {
    this.dispatch('warning', new GstError(message));
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
