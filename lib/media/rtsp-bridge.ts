// An RTSP camera to WebRTC viewers: H.264 passed through (depayloaded, never
// decoded), one connection to the camera for every viewer, and reconnection
// with backoff when the camera's stream drops, while the viewers stay.
import { branchesOf } from '../core/branch.js';
import { GstError, InvalidStateError } from '../core/errors.js';
import { native, type GopCacheStats, type NativeObject } from '../core/native.js';
import { MediaFanOut, type AddViewerOptions, type MediaFanOutOptions } from './fan-out.js';
import { SafeEmitter, type ListenerErrorEvent } from '../core/safe-emitter.js';
import type { WebRtcBin } from '../core/webrtcbin.js';

/** How rtspsrc carries the media: RTP interleaved in the RTSP TCP connection (the default), UDP, or either. */
export type RtspTransport = 'tcp' | 'udp' | 'auto';

/** The camera and how to reach it; ICE options apply to every viewer. */
export interface RtspBridgeOptions extends Pick<MediaFanOutOptions, 'iceServers' | 'iceTransportPolicy' | 'maxViewerDelay'> {
  /** `rtsp://[user:password@]host[:port]/path` (also rtsps:, rtspt:, rtspu:, rtsph:). */
  url: string;
  /** Default 'tcp': it passes firewalls, loses nothing, and notices a camera that goes away at once. */
  transport?: RtspTransport;
  /** rtspsrc's jitterbuffer, in milliseconds. Default 200 (rtspsrc's own default, 2000, is for recording). */
  latency?: number;
  /** How long start() waits for the first frame. Default 10000 ms. */
  startTimeout?: number;
  /** No frame for this long counts as a dropped stream. Default 5000 ms. */
  stallTimeout?: number;
  /** The first reconnection delay; each failed attempt doubles it. Default 500 ms. */
  reconnectDelay?: number;
  /** The longest reconnection delay. Default 10000 ms. */
  maxReconnectDelay?: number;
  /**
   * Instant start: the bridge keeps the camera's last keyframe and every frame
   * after it (the current group of pictures, as received: nothing is decoded
   * or encoded), at most this many bytes, and a viewer gets that group the
   * moment it connects, then the live stream. A group that outgrows the limit
   * is dropped, and viewers then wait for the camera's next keyframe until a
   * group fits again. 0 turns it off. Default 8 MiB (a 10 s group at
   * 6 Mbit/s).
   */
  gopCacheBytes?: number;
}

/** Default of RtspBridgeOptions.gopCacheBytes. */
export const DEFAULT_GOP_CACHE_BYTES = 8 * 1024 * 1024;
/** How long a viewer that connected before its branch was linked waits for the link, checked every few ms. */
const REPLAY_LINK_WAIT_MS = 2000;

/** Where the bridge is: connecting for start(), streaming, reconnecting after a drop, or closed. */
export type RtspBridgeState = 'new' | 'connecting' | 'streaming' | 'reconnecting' | 'closed';

/** Events of an RtspBridge. */
export interface RtspBridgeEvents extends ListenerErrorEvent {
  /** The camera's stream dropped (or an attempt failed); the next attempt starts after `delay` ms. Viewers stay connected. */
  reconnecting: [attempt: number, delay: number, reason: RtspError];
  /** Frames arrive again after a drop. */
  reconnected: [attempts: number];
  /** A pipeline error that is not the camera's (the camera's become `reconnecting`). */
  error: [error: GstError];
  /** close() ran. */
  close: [];
}

/** The RTSP source failed: unreachable, refused, not found, not H.264, or silent. */
export class RtspError extends Error {
  override name = 'RtspError';
  /** The camera's URL, without its password. */
  readonly url: string;
  /** The GStreamer error behind it, when there is one. */
  readonly gstError?: GstError;

  constructor(url: string, message: string, gstError?: GstError) {
    super(`RTSP source ${url}: ${message}`, gstError === undefined ? undefined : { cause: gstError });
    this.url = url;
    this.gstError = gstError;
  }
}

export type { GopCacheStats };

const RTSP_SCHEMES = new Set(['rtsp:', 'rtsps:', 'rtspt:', 'rtspu:', 'rtsph:']);
const WATCH_INTERVAL_MS = 250;

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/**
 * Bridges an RTSP camera to any number of WebRTC viewers: one connection to the
 * camera, its H.264 depayloaded once and sent to every viewer as it is (no
 * decoder, no encoder). When the camera's stream drops (an error, its end, or
 * no frame for `stallTimeout`), the bridge reconnects with exponential backoff
 * and the viewers stay connected; the picture resumes at the camera's next
 * keyframe. A viewer that joins starts at once (see `gopCacheBytes`): the
 * bridge keeps the camera's current group of pictures, from its last keyframe
 * on, and sends it to the viewer as soon as it connects, then the live stream
 * (RTSP cameras on RTP/AVP take no keyframe requests, and their keyframes can
 * be 10 s apart). Memory per bridge is bounded by `gopCacheBytes`; each
 * keyframe replaces the group kept.
 *
 * ```ts
 * const bridge = new RtspBridge({ url: 'rtsp://camera.local/stream' });
 * await bridge.start();                  // rejects with RtspError naming the URL
 * const viewer = bridge.addViewer();     // a WebRtcBin: negotiate it with a browser
 * ```
 */
export class RtspBridge extends SafeEmitter<RtspBridgeEvents> {
  /** The fan-out that sends the camera's video to the viewers. */
  readonly fanOut: MediaFanOut;
  /** The camera's URL, without its password. */
  readonly url: string;
  private readonly location: string;
  private readonly settings: Required<Pick<RtspBridgeOptions, 'transport' | 'latency' | 'startTimeout' | 'stallTimeout' | 'reconnectDelay' | 'maxReconnectDelay' | 'gopCacheBytes'>>;
  /** The video tee's input, where the GOP cache records; null with the cache off. */
  private readonly cachePad: NativeObject | null;
  private currentState: RtspBridgeState = 'new';
  private sourceName = '';
  private attempt = 0;
  private failedAttempts = 0;
  private attemptStartedAt = 0;
  private lastFrames = 0;
  private lastFrameAt = 0;
  private watchTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private startWaiter: { resolve: () => void; reject: (error: Error) => void } | undefined;

  /**
   * Checks the URL and builds the pipeline; start() connects.
   * @throws TypeError for a URL that is not rtsp://... or for invalid options.
   */
  constructor(options: RtspBridgeOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('RtspBridge options must be an object');
    this.location = checkUrl(options.url);
    this.url = redactUrl(this.location);
    this.settings = {
      transport: options.transport ?? 'tcp',
      latency: options.latency ?? 200,
      startTimeout: options.startTimeout ?? 10_000,
      stallTimeout: options.stallTimeout ?? 5000,
      reconnectDelay: options.reconnectDelay ?? 500,
      maxReconnectDelay: options.maxReconnectDelay ?? 10_000,
      gopCacheBytes: options.gopCacheBytes ?? DEFAULT_GOP_CACHE_BYTES,
    };
    if (!['tcp', 'udp', 'auto'].includes(this.settings.transport)) throw new TypeError(`transport must be 'tcp', 'udp' or 'auto', not ${JSON.stringify(this.settings.transport)}`);
    for (const name of ['latency', 'startTimeout', 'stallTimeout', 'reconnectDelay', 'maxReconnectDelay'] as const) {
      const value = this.settings[name];
      if (!Number.isInteger(value) || value < 0) throw new TypeError(`${name} must be a non-negative integer (milliseconds)`);
    }
    if (!Number.isSafeInteger(this.settings.gopCacheBytes) || this.settings.gopCacheBytes < 0) throw new TypeError('gopCacheBytes must be a non-negative integer (bytes)');
    this.fanOut = new MediaFanOut({
      video: { h264: this.sourceDescription() },
      iceServers: options.iceServers,
      iceTransportPolicy: options.iceTransportPolicy,
      maxViewerDelay: options.maxViewerDelay,
    });
    this.configureSource();
    this.cachePad = this.settings.gopCacheBytes > 0 ? this.attachGopCache() : null;
    this.fanOut.on('error', (error) => this.onError(error));
    this.fanOut.on('sourceended', () => {
      const ended = new RtspError(this.url, 'the stream ended');
      if (this.currentState === 'connecting') this.failStart(ended);
      else this.onSourceFailure(ended);
    });
    this.fanOut.on('close', () => this.close());
  }

  /** See RtspBridgeState. */
  get state(): RtspBridgeState {
    return this.currentState;
  }

  /** The viewers, as MediaFanOut.viewers. */
  get viewers(): WebRtcBin[] {
    return this.fanOut.viewers;
  }

  /**
   * Connects to the camera; resolves at the first frame. Rejects with an
   * RtspError naming the URL when the camera cannot be reached, refuses, has
   * no such stream, sends no H.264, or sends nothing within `startTimeout`.
   * Once started, drops are handled by reconnecting, not by errors.
   */
  async start(): Promise<void> {
    if (this.currentState !== 'new') throw new InvalidStateError(`start() can be called once; the bridge is ${this.currentState}`);
    this.currentState = 'connecting';
    this.attemptStartedAt = Date.now();
    const started = new Promise<void>((resolve, reject) => (this.startWaiter = { resolve, reject }));
    // It can reject while fanOut.start() is still awaited below; it is awaited then, so that is not unhandled.
    started.catch(() => undefined);
    this.watchTimer = setInterval(() => this.watch(), WATCH_INTERVAL_MS);
    try {
      await this.fanOut.start();
    } catch (error) {
      if (error instanceof GstError) this.onError(error);
      else this.failStart(error as Error);
    }
    try {
      await started;
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /**
   * What the GOP cache holds now (frames since the last keyframe, their bytes,
   * the limit, and counters of keyframes, overflows and replays), or null when
   * `gopCacheBytes` is 0 or the bridge is closed.
   */
  get gopCache(): GopCacheStats | null {
    if (this.cachePad === null || this.currentState === 'closed') return null;
    return native.gopCacheStats(this.cachePad);
  }

  /**
   * Adds a viewer (see MediaFanOut.addViewer); viewers can join before start()
   * resolves. Once it connects, it gets the cached group of pictures first.
   */
  addViewer(options?: AddViewerOptions): WebRtcBin {
    if (this.currentState === 'closed') throw new InvalidStateError('the RtspBridge is closed');
    const viewer = this.fanOut.addViewer(options);
    if (this.cachePad !== null) {
      viewer.on('connectionstatechange', (state) => {
        if (state === 'connected') this.replayGop(viewer, Date.now());
      });
    }
    return viewer;
  }

  /** Removes a viewer (see MediaFanOut.removeViewer). */
  removeViewer(viewer: WebRtcBin): Promise<void> {
    return this.fanOut.removeViewer(viewer);
  }

  /** Disconnects from the camera and closes every viewer. Idempotent. */
  close(): void {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    clearInterval(this.watchTimer);
    clearTimeout(this.retryTimer);
    this.startWaiter?.reject(new InvalidStateError('the RtspBridge was closed'));
    this.startWaiter = undefined;
    this.fanOut.close();
    this.dispatch('close');
  }

  /** Records the video tee's input: its group of pictures, as h264parse marks keyframes. */
  private attachGopCache(): NativeObject | null {
    const branches = branchesOf(this.fanOut.pipeline);
    const tee = branches.element('video-tee');
    const pad = tee === null ? null : branches.pad(tee, 'sink');
    if (pad === null) return null;
    native.gopCacheAttach(pad, this.settings.gopCacheBytes);
    return pad;
  }

  /**
   * Sends the cached group to a viewer that just connected: armed on its tee
   * pad, it goes out on the streaming thread before the next live frame, so
   * within one frame interval. Media sent before the connection was up is lost,
   * hence at 'connected'. A viewer whose branch is not linked yet (it connected
   * very fast) is retried briefly.
   */
  private replayGop(viewer: WebRtcBin, since: number): void {
    if (this.cachePad === null || this.currentState === 'closed' || viewer.closed) return;
    const teePad = this.fanOut.viewerTeePad(viewer, 'video');
    if (teePad !== null) {
      native.gopCacheReplay(this.cachePad, teePad);
      return;
    }
    if (Date.now() - since < REPLAY_LINK_WAIT_MS) setTimeout(() => this.replayGop(viewer, since), 5);
  }

  private sourceDescription(): string {
    this.sourceName = `rtsp-source-${++this.attempt}`;
    const protocols = { tcp: 'tcp', udp: 'udp-mcast+udp', auto: 'tcp+udp-mcast+udp' }[this.settings.transport];
    // tcp-timeout and teardown-timeout bound how long a dead camera can hold up a reconnection.
    return (
      `rtspsrc name=${this.sourceName} protocols=${protocols} latency=${this.settings.latency} ` +
      `tcp-timeout=${this.settings.stallTimeout * 1000} teardown-timeout=100000000 ! rtph264depay`
    );
  }

  /** The URL goes in as a property: no quoting, and the password never appears in a description. */
  private configureSource(): void {
    this.fanOut.pipeline.getElement(this.sourceName)!.set('location', this.location);
  }

  /** Frames and deadlines: the first frame, a stall, a reconnection that succeeded. */
  private watch(): void {
    if (this.currentState === 'closed') return;
    const frames = this.fanOut.framesProduced.video ?? 0;
    const now = Date.now();
    if (frames > this.lastFrames) {
      this.lastFrames = frames;
      this.lastFrameAt = now;
      if (this.currentState === 'connecting') {
        this.currentState = 'streaming';
        this.startWaiter?.resolve();
        this.startWaiter = undefined;
      } else if (this.currentState === 'reconnecting' && this.retryTimer === undefined) {
        const attempts = this.failedAttempts;
        this.failedAttempts = 0;
        this.currentState = 'streaming';
        this.dispatch('reconnected', attempts);
      }
      return;
    }
    if (this.currentState === 'streaming' && now - this.lastFrameAt > this.settings.stallTimeout) {
      this.onSourceFailure(new RtspError(this.url, `no video for ${this.settings.stallTimeout} ms`));
    } else if (this.currentState === 'connecting' && now - this.attemptStartedAt > this.settings.startTimeout) {
      this.failStart(new RtspError(this.url, `no H.264 video within ${this.settings.startTimeout} ms (is the stream H.264?)`));
    } else if (this.currentState === 'reconnecting' && this.retryTimer === undefined && now - this.attemptStartedAt > this.settings.startTimeout) {
      this.onSourceFailure(new RtspError(this.url, `no video within ${this.settings.startTimeout} ms of reconnecting`));
    }
  }

  private onError(error: GstError): void {
    if (this.currentState === 'closed') return;
    const origin = this.errorOrigin(error);
    if (origin === 'earlier source') return; // queued before that source was replaced
    if (origin === 'other') {
      this.dispatchError('error', error);
      return;
    }
    const failure = new RtspError(this.url, describeRtspError(error), error);
    if (this.currentState === 'connecting') this.failStart(failure);
    else this.onSourceFailure(failure);
  }

  /**
   * Whose error: the current rtspsrc or what belongs to it (its depayloader,
   * the elements it creates inside, named by GStreamer), an rtspsrc replaced
   * since, or something else.
   */
  private errorOrigin(error: GstError): 'source' | 'earlier source' | 'other' {
    const source = error.source ?? '';
    if (source === this.sourceName) return 'source';
    if (/^rtsp-source-\d+$/.test(source)) return 'earlier source';
    return /^(rtph264depay|udpsrc|udpsink|rtpbin|rtpjitterbuffer|rtpptdemux|rtpssrcdemux|rtpsession|manager)\d*$/.test(source) ? 'source' : 'other';
  }

  private failStart(error: Error): void {
    if (this.startWaiter === undefined) return;
    const waiter = this.startWaiter;
    this.startWaiter = undefined;
    waiter.reject(error);
  }

  /** The stream dropped: replace the source after a backoff delay. Viewers stay. */
  private onSourceFailure(reason: RtspError): void {
    if (this.currentState === 'closed' || this.currentState === 'connecting' || this.retryTimer !== undefined) return;
    this.currentState = 'reconnecting';
    this.failedAttempts++;
    const delay = Math.min(this.settings.reconnectDelay * 2 ** (this.failedAttempts - 1), this.settings.maxReconnectDelay);
    // Stop the failed source now (it may be retrying on its own); the next one starts after the delay.
    this.fanOut.removeSource('video');
    this.dispatch('reconnecting', this.failedAttempts, delay, reason);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.currentState === 'closed') return;
      this.attemptStartedAt = Date.now();
      // Frames of the old source still queued on their way to the counter do not count as a success.
      this.lastFrames = this.fanOut.framesProduced.video ?? 0;
      try {
        this.fanOut.setSource('video', this.sourceDescription(), () => this.configureSource());
      } catch (error) {
        this.dispatchError('error', error instanceof GstError ? error : new GstError(String(error)));
        return;
      }
      this.fanOut.requestKeyFrame();
    }, delay);
  }
}

/** Checks an RTSP URL; returns it as given. */
function checkUrl(url: unknown): string {
  if (typeof url !== 'string') throw new TypeError('url must be a string (rtsp://host[:port]/path)');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`not a valid RTSP URL: ${JSON.stringify(redactUrl(url))}`);
  }
  if (!RTSP_SCHEMES.has(parsed.protocol)) throw new TypeError(`not an RTSP URL (rtsp://host[:port]/path): ${JSON.stringify(redactUrl(url))}`);
  if (parsed.hostname === '') throw new TypeError(`the RTSP URL has no host: ${JSON.stringify(redactUrl(url))}`);
  return url;
}

/** rtspsrc's terse messages, with the detail that tells a user what to fix. */
function describeRtspError(error: GstError): string {
  const detail = /\n(.+?)(?: \(Generic error\))?$/s.exec(error.debug ?? '')?.[1]?.trim();
  if (/Not found/i.test(error.message)) return 'the camera has no stream at this path (404 Not Found)';
  if (/Unauthorized|authori/i.test(error.message + (detail ?? ''))) return 'the camera refused the credentials (401 Unauthorized)';
  if (/Could not open resource/i.test(error.message)) return `cannot connect${detail !== undefined ? ` (${detail})` : ''}: is the camera reachable, and the host and port right?`;
  if (/Could not read from resource/i.test(error.message)) return `the connection was lost${detail !== undefined ? ` (${detail})` : ''}`;
  if (/not-linked|not-negotiated/i.test(error.debug ?? '')) return `the stream is not H.264 video (${error.message})`;
  return detail !== undefined ? `${error.message} (${detail})` : error.message;
}
