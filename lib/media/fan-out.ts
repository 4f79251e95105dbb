// One media source, encoded (or depayloaded) once, sent to many WebRTC viewers.
// Each viewer is a webrtcbin in the same pipeline, fed from a tee through a
// leaky queue and its own RTP payloader; viewers come and go while the others
// keep playing.
import { branchesOf, ignoreOutcome, type Branches } from '../core/branch.js';
import { chooseCodec, DEFAULT_PAYLOAD_TYPES, describeOffered, payloaderFor, type CodecCapability, type SendCodec } from '../core/codecs.js';
import { Element } from '../core/element.js';
import { GstError, InvalidStateError, OperationError } from '../core/errors.js';
import { checkFec, type FecOptions } from '../core/fec.js';
import { DEFAULT_PROFILE_LEVEL_ID, h264EncoderFragment, H264_PARSER, parseProfileLevelId, type H264EncoderOptions } from '../core/h264.js';
import { toWebRtcBinIceServers } from '../core/ice-servers.js';
import { withInstallHint } from '../core/missing-dependency.js';
import type { NativeObject } from '../core/native.js';
import { Pipeline } from '../core/pipeline.js';
import type { Disposable } from '../core/pipeline-handle.js';
import { SafeEmitter, type ListenerErrorEvent } from '../core/safe-emitter.js';
import type { IceServer, IceTransportPolicy, MediaKind, SessionDescription } from '../core/types.js';
import { WebRtcBin } from '../core/webrtcbin.js';
import { parseSdp } from '../core/sdp.js';
import { TRANSPORT_CC_ID, TRANSPORT_CC_URI } from '../core/receive-feedback.js';
import type { BitrateChange } from './congestion/bandwidth-estimator.js';
import { CongestionController } from './congestion/congestion-controller.js';
import { EncoderBitrate, VP8_ADAPTIVE_SETTINGS } from './congestion/encoder-bitrate.js';
import { LayerSelector } from './congestion/layer-selector.js';
import { congestionLimits, type CongestionControlOptions, type CongestionLimits } from './congestion/options.js';
import { transportCcCaps } from './congestion/transport-cc-caps.js';
import { KeyframeLimiter } from './keyframe-limiter.js';

/** Raw video to encode once for every viewer (a camera, a test pattern, a decoded file). */
export interface RawVideoInput extends H264EncoderOptions {
  /** A pipeline fragment that outputs raw video, e.g. `'v4l2src'` or `'videotestsrc is-live=true'`. */
  source: string;
  /** Default `'H264'` (constrained baseline). */
  codec?: 'H264' | 'VP8';
}

/** Video that is already H.264 (an RTSP camera, a file): sent as it is, never decoded. */
export interface H264VideoInput {
  /** A pipeline fragment that outputs H.264, e.g. `'rtspsrc location=... ! rtph264depay'`. */
  h264: string;
}

/** Raw audio to encode once as Opus. */
export interface RawAudioInput {
  /** A pipeline fragment that outputs raw audio, e.g. `'pulsesrc'` or `'audiotestsrc is-live=true'`. */
  source: string;
  /** Opus bitrate in kbit/s. Default 64. */
  bitrate?: number;
}

/** What a MediaFanOut sends and how its viewers connect. */
export interface MediaFanOutOptions {
  video?: RawVideoInput | H264VideoInput;
  audio?: RawAudioInput;
  /** STUN/TURN servers of every viewer. Default: none; on a LAN or localhost host candidates suffice. */
  iceServers?: IceServer[];
  /** 'relay' makes every viewer use TURN only. Default 'all'. */
  iceTransportPolicy?: IceTransportPolicy;
  /**
   * How far a viewer may fall behind, in milliseconds, before its oldest media
   * is dropped (it then recovers at the next keyframe). A slow viewer never
   * holds up the others. Default 1000.
   */
  maxViewerDelay?: number;
  /**
   * Milliseconds between two keyframes the video encoder makes on request:
   * viewers joining, and their PLI/FIR. Requests in between are answered
   * together, by one keyframe at the end of the interval (a KeyframeLimiter on
   * each encode). Default 500.
   */
  keyframeRequestInterval?: number;
  /**
   * Bitrate that follows each viewer's link (raw video input; see
   * docs/congestion.md). Each viewer gets a CongestionController fed by its
   * TWCC feedback and receiver reports. With `layers`, the video is encoded
   * once per layer and each viewer is sent the best layer its estimate carries
   * (switched on a keyframe); without, the one encode follows the weakest
   * viewer, never below `minBitrate`.
   */
  congestionControl?: FanOutCongestionControl;
  /** Forward error correction (ULPFEC in RED) on every viewer's video (WebRtcBinOptions.fec). Default: off. */
  fec?: FecOptions | null;
}

/** Congestion control of a MediaFanOut: the per-viewer limits, and the layers. */
export interface FanOutCongestionControl extends CongestionControlOptions {
  /**
   * Encodes of the video at these bitrates (bit/s), e.g.
   * `[{ bitrate: 2_500_000 }, { bitrate: 1_000_000 }, { bitrate: 300_000 }]`;
   * any order (they are sorted best first). Each costs one encoder's CPU.
   * Without layers (or with one) there is one encode, following the weakest viewer.
   */
  layers?: { bitrate: number }[];
}

/** Options of MediaFanOut.addViewer(). */
export interface AddViewerOptions {
  /**
   * The viewer's offer, when the viewer (e.g. a browser) makes it: the viewer's
   * payload types are used, and an offer without a format for our media is
   * refused. Apply it with `setRemoteDescription()` afterwards, then answer.
   * Without it the viewer is meant to make the offer.
   */
  remoteOffer?: SessionDescription;
}

/** Why a viewer left: removeViewer(), its WebRtcBin was closed, or its connection failed. */
export type ViewerRemovedReason = 'removed' | 'closed' | 'failed';

/** Events of a MediaFanOut. */
export interface MediaFanOutEvents extends ListenerErrorEvent {
  /** An error on the pipeline (a source that fails, a missing plugin, ...); `error.source` names the element. */
  error: [error: GstError];
  /** A viewer was torn down; its WebRtcBin is closed. */
  viewerremoved: [viewer: WebRtcBin, reason: ViewerRemovedReason];
  /** A source reached its end. Viewers stay connected; setSource() can start another one. */
  sourceended: [kind: MediaKind];
  /** With congestion control and layers: a viewer was switched to another layer (0 is the best), starting at its keyframe. */
  layerchange: [viewer: WebRtcBin, layer: number];
  /** With congestion control and no layers: the one video encode's new target bitrate (the weakest viewer's estimate, within the limits). */
  bitratechange: [change: BitrateChange];
  /** close() ran. */
  close: [];
}

/** One encode of a feed: its tee, and for video the encoder and its keyframe-request limit. */
interface Layer {
  tee: NativeObject;
  /** Its bitrate with congestion control and layers (bit/s), else null. */
  bitrate: number | null;
  encoder: Element | null;
  limiter: KeyframeLimiter | null;
}

interface Feed {
  kind: MediaKind;
  codec: SendCodec;
  /** Best first; one unless video is encoded in layers. */
  layers: Layer[];
  /** The first element after the source, where setSource() links. */
  input: Element;
  /** The fakesink counting encoded buffers (looked up once: a lookup takes the pipeline's lock). */
  framesSink: Element;
  source: Element | null;
  sourceGeneration: number;
  /** Target of the current source's end-of-stream watch. */
  eosWatch: Disposable | null;
}

interface ViewerTrack {
  feed: Feed;
  branch: NativeObject;
  teePad: NativeObject | null;
  /** The layer of the feed it takes. */
  layer: number;
  /** A switch to another layer is under way. */
  switching: boolean;
  /** Target of the branch's flow guard (see NativePipeline.isolateFlow); null until the branch is wired. */
  guard: Disposable | null;
}

interface Viewer {
  webrtcbin: WebRtcBin;
  tracks: ViewerTrack[];
  removal: Promise<void> | null;
  /** With congestion control: its controller, and with layers which layer its link carries. */
  control: CongestionController | null;
  selector: LayerSelector | null;
  /** When its estimate last fell because of congestion (ms). */
  congestedAt: number;
}

/** The congestion control settings of a fan-out, checked. */
interface FanOutControl {
  limits: CongestionLimits;
  /** Layer bitrates, best first; empty: one encode following the weakest viewer. */
  layers: number[];
  /** The one encode's bitrate setter (no layers), and its current target. */
  sharedEncoder: EncoderBitrate | null;
  sharedTarget: number;
}

/** How long a tee pad may stay busy before a removal goes ahead anyway. */
const UNLINK_TIMEOUT_MS = 5000;

/**
 * One source shared by many WebRTC viewers: the media is encoded once (or, for
 * H.264 input such as an RTSP camera, passed through without decoding) and
 * each viewer gets it through its own WebRtcBin. Viewers join and leave while
 * the others keep playing; when the fan-out encodes, a viewer that joins gets
 * a keyframe right away.
 *
 * ```ts
 * const fanOut = new MediaFanOut({ video: { source: 'videotestsrc is-live=true' } });
 * await fanOut.start();
 * const viewer = fanOut.addViewer();      // a WebRtcBin: negotiate it with the browser
 * // ...
 * await fanOut.removeViewer(viewer);
 * fanOut.close();
 * ```
 */
export class MediaFanOut extends SafeEmitter<MediaFanOutEvents> {
  /** The shared pipeline: sources, encoders and every viewer's webrtcbin. */
  readonly pipeline: Pipeline;
  /** What viewers are sent: `'H264'` or `'VP8'` for video, `'OPUS'` for audio. */
  readonly codecs: Readonly<Partial<Record<MediaKind, SendCodec>>>;
  private readonly feeds: Feed[] = [];
  private readonly viewerMap = new Map<WebRtcBin, Viewer>();
  private readonly webrtcOptions: { iceServers?: IceServer[]; iceTransportPolicy?: IceTransportPolicy; fec?: FecOptions | null };
  private readonly maxViewerDelay: number;
  private readonly control: FanOutControl | null;
  private readonly pendingUnlinks = new Set<() => void>();
  private readonly branches: Branches;
  private nextViewerId = 1;
  private isClosed = false;

  /**
   * Builds the pipeline (not yet playing: call start()).
   * @throws TypeError for invalid options; GstError for a source that does not parse; MissingDependencyError for a missing plugin.
   */
  constructor(options: MediaFanOutOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('MediaFanOut options must be an object');
    const { video, audio } = options;
    if (video === undefined && audio === undefined) throw new TypeError('a MediaFanOut needs a video or an audio input');
    const maxViewerDelay = options.maxViewerDelay ?? 1000;
    if (!Number.isInteger(maxViewerDelay) || maxViewerDelay <= 0) throw new TypeError('maxViewerDelay must be a positive integer (milliseconds)');
    this.maxViewerDelay = maxViewerDelay;
    // Checked now rather than at the first viewer.
    toWebRtcBinIceServers(options.iceServers);
    if (options.iceTransportPolicy !== undefined && options.iceTransportPolicy !== 'all' && options.iceTransportPolicy !== 'relay') {
      throw new TypeError(`iceTransportPolicy must be 'all' or 'relay', not ${JSON.stringify(options.iceTransportPolicy)}`);
    }
    checkFec(options.fec);
    this.webrtcOptions = { iceServers: options.iceServers, iceTransportPolicy: options.iceTransportPolicy, fec: options.fec };
    const keyframeRequestInterval = options.keyframeRequestInterval ?? 500;
    if (typeof keyframeRequestInterval !== 'number' || !Number.isFinite(keyframeRequestInterval) || keyframeRequestInterval < 0) {
      throw new TypeError('keyframeRequestInterval must be a non-negative number (milliseconds)');
    }
    const control = checkCongestionControl(options.congestionControl, video);

    const parts: string[] = [];
    const codecs: Partial<Record<MediaKind, SendCodec>> = {};
    if (video !== undefined) {
      const { description, codec } = videoCore(video, control);
      parts.push(description);
      codecs.video = codec;
    }
    if (audio !== undefined) {
      parts.push(audioCore(audio));
      codecs.audio = 'OPUS';
    }
    this.codecs = codecs;
    this.pipeline = new Pipeline(parts.join('  '));
    this.branches = branchesOf(this.pipeline);
    try {
      for (const kind of ['video', 'audio'] as const) {
        if (codecs[kind] === undefined) continue;
        const layerCount = kind === 'video' && control !== null ? Math.max(1, control.layers.length) : 1;
        const layers: Layer[] = [];
        for (let index = 0; index < layerCount; index++) {
          const tee = this.branches.element(teeName(kind, index))!;
          layers.push({
            tee,
            bitrate: kind === 'video' ? (control?.layers[index] ?? null) : null,
            encoder: this.pipeline.getElement(`${kind}-encoder-${index}`),
            // Every request for a keyframe of this encode (joins, PLI/FIR) passes the tee's input.
            limiter: kind === 'video' ? new KeyframeLimiter(this.pipeline, this.branches.pad(tee, 'sink')!, keyframeRequestInterval) : null,
          });
        }
        this.feeds.push({
          kind,
          codec: codecs[kind],
          layers,
          input: this.pipeline.getElement(`${kind}-in`)!,
          framesSink: this.pipeline.getElement(`${kind}-frames`)!,
          source: null,
          sourceGeneration: 0,
          eosWatch: null,
        });
      }
      if (video !== undefined) this.setSource('video', 'h264' in video ? video.h264 : video.source);
      if (audio !== undefined) this.setSource('audio', audio.source);
      if (control !== null && control.layers.length === 0 && video !== undefined) {
        const encoder = this.feeds.find((feed) => feed.kind === 'video')?.layers[0]?.encoder ?? null;
        if (encoder !== null) control.sharedEncoder = new EncoderBitrate(this.pipeline, encoder);
        control.sharedEncoder?.set(control.sharedTarget);
      }
    } catch (error) {
      this.pipeline.close();
      throw error;
    }
    this.control = control;
    this.pipeline.on('error', (error) => this.dispatchError('error', error));
    this.pipeline.on('close', () => this.close());
  }

  /** Starts the sources; resolves once the pipeline plays. Viewers can be added before or after. */
  async start(): Promise<void> {
    this.assertOpen();
    await this.pipeline.play();
  }

  /** Whether close() has run. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The viewers, in the order they joined (without those being removed). */
  get viewers(): WebRtcBin[] {
    return [...this.viewerMap.values()].filter((viewer) => viewer.removal === null).map((viewer) => viewer.webrtcbin);
  }

  /**
   * Buffers each source has produced so far, after encoding (video: frames;
   * audio: Opus packets). A live source's count grows steadily; one that stops
   * growing has stalled.
   */
  get framesProduced(): Partial<Record<MediaKind, number>> {
    const counts: Partial<Record<MediaKind, number>> = {};
    if (this.isClosed) return counts;
    for (const feed of this.feeds) {
      const stats = feed.framesSink.get('stats') as { rendered?: number } | undefined;
      counts[feed.kind] = stats?.rendered ?? 0;
    }
    return counts;
  }

  /**
   * Keyframe requests that reached the video encode(s) (viewers joining, their
   * PLI/FIR, requestKeyFrame()): `passed` went on to an encoder (including the
   * one asked for at the end of an interval on behalf of held ones), `held`
   * arrived less than `keyframeRequestInterval` after one had passed.
   */
  get keyframeRequests(): { passed: number; held: number } {
    const limiters = this.feeds.flatMap((feed) => feed.layers.map((layer) => layer.limiter)).filter((limiter) => limiter !== null);
    return { passed: limiters.reduce((total, l) => total + l.passed, 0), held: limiters.reduce((total, l) => total + l.held, 0) };
  }

  /** Elements in the pipeline, at any depth: after viewers leave it returns to what it was before they joined. */
  get elementCount(): number {
    this.assertOpen();
    return this.branches.countElements();
  }

  /**
   * Replaces the source of one kind, keeping the encoder and every viewer: for
   * a camera that reconnects, or the next file. The old source is stopped and
   * removed; its end-of-stream never reaches the viewers. Returns the new
   * source's bin, whose elements `pipeline.getElement()` finds by name.
   * @param configure called with the new bin before it starts, e.g. to set a
   *   property that should not go through a description (a URL with credentials).
   * @throws TypeError when there is no input of that kind; GstError for a description that does not parse.
   */
  setSource(kind: MediaKind, description: string, configure?: (source: Element) => void): Element {
    this.assertOpen();
    const feed = this.feed(kind);
    if (typeof description !== 'string' || description.trim() === '') throw new TypeError(`the ${kind} source must be a pipeline description`);
    this.removeSource(kind);
    // identity: a description may end in caps (`... ! video/x-raw,width=640`), which parse only between two elements.
    const source = this.pipeline.add(`${description} ! identity name=${kind}-source-${feed.sourceGeneration + 1}`);
    try {
      const output = this.branches.pad(source.native, 'src');
      if (output === null) throw new TypeError(`the ${kind} source ${JSON.stringify(description)} has no unlinked output`);
      // A source has no input. Parsing gives one to an element that waits for a
      // dynamic pad (`rtspsrc ! rtph264depay`), which would keep that link from forming.
      const input = this.branches.pad(source.native, 'sink');
      if (input !== null) this.branches.removeGhostPad(input);
      const generation = ++feed.sourceGeneration;
      feed.eosWatch = this.branches.watchEos(output, true, () => {
        if (feed.sourceGeneration === generation && !this.isClosed) this.dispatch('sourceended', kind);
      });
      configure?.(source);
      this.pipeline.link(source, feed.input);
    } catch (error) {
      void this.pipeline.remove(source);
      throw error;
    }
    feed.source = source;
    return source;
  }

  /** Stops and removes the source of one kind (viewers stay, receiving nothing until setSource()). */
  removeSource(kind: MediaKind): void {
    this.assertOpen();
    const feed = this.feed(kind);
    if (feed.source === null) return;
    const source = feed.source;
    feed.source = null;
    feed.sourceGeneration++;
    feed.eosWatch?.dispose();
    feed.eosWatch = null;
    // Nothing downstream of a source blocks (viewers sit behind leaky queues),
    // so stopping it only waits for its own threads.
    void this.pipeline.remove(source);
  }

  /**
   * Adds a viewer: a WebRtcBin in this pipeline, sending every input (video
   * first, then audio) on sendonly transceivers. Negotiate it like any other
   * WebRtcBin (a PeerConnector, a PeerSession). It is removed, and closed, on
   * removeViewer(), when it is closed, or when its connection fails.
   * @throws OperationError when `remoteOffer` has no format for our media.
   */
  addViewer(options: AddViewerOptions = {}): WebRtcBin {
    this.assertOpen();
    if (typeof options !== 'object' || options === null) throw new TypeError('addViewer options must be an object');
    const plan = this.planTracks(options.remoteOffer);
    const branches = this.branches;
    // The webrtcbin and the branches are made on the pipeline's native thread
    // (making a webrtcbin starts threads and waits for them); they are wired once
    // they exist, and the WebRtcBin's operations wait for that.
    const webrtcbin = WebRtcBin.createIn(this.pipeline, `viewer-${this.nextViewerId++}`, { ...this.webrtcOptions, bundlePolicy: 'max-bundle' });
    const element = webrtcbin.element.native;
    const control = this.control;
    const layered = control !== null && control.layers.length > 0;
    const viewer: Viewer = { webrtcbin, tracks: [], removal: null, control: null, selector: null, congestedAt: -Infinity };
    if (layered) viewer.selector = new LayerSelector(control.layers, control.limits.startBitrate);
    const made: Promise<void>[] = [];
    const wiring = plan.map(({ feed, payloadType, mlineIndex, answerCaps, rtpCapsFix, transportCcId }) => {
      // With congestion control, video packets carry the transport-wide sequence numbers TWCC feedback is about.
      const transportCc = control !== null && feed.kind === 'video' && transportCcId !== null ? transportCcCaps(transportCcId) : '';
      const { element: branch, created } = branches.addBinLater(
        `queue leaky=downstream max-size-buffers=0 max-size-bytes=0 max-size-time=${this.maxViewerDelay * 1_000_000} ! ${payloaderFor(feed.codec, payloadType)}${transportCc}${rtpCapsFix}`,
      );
      made.push(created);
      const layer = feed.kind === 'video' && viewer.selector !== null ? viewer.selector.layer : 0;
      const track: ViewerTrack = { feed, branch, teePad: null, layer, switching: false, guard: null };
      viewer.tracks.push(track);
      return { track, mlineIndex, answerCaps };
    });
    this.viewerMap.set(webrtcbin, viewer);
    const wired = Promise.all(made).then(async () => {
      if (viewer.removal !== null || this.isClosed) return false;
      // The element exists now and has not negotiated yet: its RTP session will be paced.
      viewer.control?.attachPacer(element);
      this.paceLayer(viewer);
      const sinkPads = wiring.map(({ track, mlineIndex }) => {
        // Whatever happens in this viewer's branch, the tee (and so every other viewer) carries on.
        track.guard = branches.isolateFlow(branches.pad(track.branch, 'sink')!, (flow) => this.onBranchFailure(viewer, track.feed.kind, flow));
        // sink_<n> is the transceiver of m-line n: it matches a remote offer's order. Requested and
        // linked on the pipeline's native thread: webrtcbin makes the transceiver under its lock.
        const { pad, created } = branches.requestPadLater(element, `sink_${mlineIndex}`);
        return Promise.all([created, branches.linkLater(track.branch, pad)]).then(() => pad);
      });
      const pads = await Promise.all(sinkPads);
      if (viewer.removal !== null || this.isClosed) return false;
      // Set on the native thread too: a transceiver's properties take its lock, which webrtcbin's thread holds.
      const settings = wiring.flatMap(({ answerCaps }, i) => {
        const transceiver = pads[i]!.get('transceiver') as NativeObject;
        const direction = branches.setLater(transceiver, 'direction', 'sendonly');
        return answerCaps === null ? [direction] : [direction, branches.setLater(transceiver, 'codec-preferences', answerCaps)];
      });
      await Promise.all(settings);
      return true;
    });
    webrtcbin.holdOperationsUntil(wired);
    if (control !== null) this.controlViewer(viewer, control);
    // Downstream first: a tee pad may only feed a branch that already plays. The
    // elements start on the pipeline's native thread; the tee feeds them after.
    wired
      .then((linked) => (linked ? Promise.all([branches.start(element), ...viewer.tracks.map((track) => branches.start(track.branch))]) : null))
      .then(
        (started) => started !== null && this.feedViewer(viewer),
        (error: unknown) => {
          if (viewer.removal !== null || this.isClosed) return;
          this.dispatchError('error', error instanceof GstError ? (withInstallHint(error) as GstError) : new GstError(String(error)));
          void this.remove(viewer, 'failed');
        },
      );
    webrtcbin.on('connectionstatechange', (state) => {
      // Media sent before DTLS was up is lost: start the picture with a keyframe.
      if (state === 'connected') this.requestKeyFrame(webrtcbin);
      else if (state === 'failed') void this.remove(viewer, 'failed');
    });
    webrtcbin.once('close', () => void this.remove(viewer, 'closed'));
    return webrtcbin;
  }

  /**
   * Removes a viewer without disturbing the others: its tee pads are unlinked
   * when idle, its branch and webrtcbin stopped and removed, the pads
   * released, and its WebRtcBin closed. Idempotent; resolves when done.
   */
  removeViewer(webrtcbin: WebRtcBin): Promise<void> {
    const viewer = this.viewerMap.get(webrtcbin);
    if (viewer === undefined) return Promise.resolve();
    return this.remove(viewer, 'removed');
  }

  /**
   * Asks the encoder for a keyframe with SPS/PPS now, for one viewer (or all);
   * viewers' PLI/FIR requests do the same. For H.264 input the request goes
   * upstream to the source, which may or may not honour it (an RTSP camera on
   * RTP/AVP cannot receive it): viewers then start at its next keyframe.
   */
  requestKeyFrame(webrtcbin?: WebRtcBin): void {
    if (this.isClosed) return;
    const viewers = webrtcbin === undefined ? [...this.viewerMap.values()] : [this.viewerMap.get(webrtcbin)].filter((v) => v !== undefined);
    for (const viewer of viewers) {
      const track = viewer.tracks.find((t) => t.feed.kind === 'video');
      if (track?.teePad != null && viewer.removal === null) this.branches.forceKeyUnit(track.teePad);
    }
  }

  /**
   * @internal The tee pad that feeds a viewer's track of `kind`: null until its
   * branch is linked, once it is being removed, or for a viewer of another
   * fan-out. For the RTSP bridge's GOP replay.
   */
  viewerTeePad(webrtcbin: WebRtcBin, kind: MediaKind): NativeObject | null {
    const viewer = this.viewerMap.get(webrtcbin);
    if (viewer === undefined || viewer.removal !== null) return null;
    return viewer.tracks.find((track) => track.feed.kind === kind)?.teePad ?? null;
  }

  /** Closes every viewer and the pipeline. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const viewer of this.viewerMap.values()) {
      viewer.control?.close();
      viewer.webrtcbin.close();
    }
    for (const feed of this.feeds) for (const layer of feed.layers) layer.limiter?.close();
    this.viewerMap.clear();
    this.pipeline.close();
    for (const resolve of [...this.pendingUnlinks]) resolve();
    this.dispatch('close');
  }

  private feed(kind: MediaKind): Feed {
    const feed = this.feeds.find((f) => f.kind === kind);
    if (feed === undefined) throw new TypeError(`this MediaFanOut has no ${kind} input`);
    return feed;
  }

  /** Which payload type and m-line each input gets, from the remote offer when there is one. */
  private planTracks(remoteOffer: SessionDescription | undefined) {
    if (remoteOffer === undefined) {
      return this.feeds.map((feed, index) => ({
        feed,
        payloadType: DEFAULT_PAYLOAD_TYPES[feed.codec],
        mlineIndex: index,
        answerCaps: null as string | null,
        rtpCapsFix: '',
        transportCcId: TRANSPORT_CC_ID as number | null,
      }));
    }
    if (typeof remoteOffer !== 'object' || remoteOffer === null || remoteOffer.type !== 'offer' || typeof remoteOffer.sdp !== 'string') {
      throw new TypeError("remoteOffer must be a session description of type 'offer'");
    }
    const offeredMedia = parseSdp(remoteOffer.sdp).media;
    return this.feeds.map((feed) => {
      const capability: CodecCapability = { codec: feed.codec, profileLevelId: DEFAULT_PROFILE_LEVEL_ID };
      const match = chooseCodec(remoteOffer.sdp, feed.kind, [capability]);
      if (match === null) {
        throw new OperationError(`the viewer's offer has no format for our ${feed.kind} (${feed.codec}); it offers ${describeOffered(remoteOffer.sdp, feed.kind)}`);
      }
      // webrtcbin answers with the intersection of the offer and these caps. They
      // leave out profile-level-id: webrtcbin also checks our stream's caps against
      // them, and its level may differ from the offer's (the profile matched above).
      const answerCaps =
        `application/x-rtp, media=(string)${feed.kind}, encoding-name=(string)${feed.codec}, payload=(int)${match.payloadType}, clock-rate=(int)${match.clockRate}` +
        (feed.codec === 'H264' ? ', packetization-mode=(string)1' : '');
      // Once our RTP caps reach the webrtcbin, create-answer intersects the offer
      // with them, not with the preferences alone. The payloader's profile-level-id
      // (from our SPS, e.g. 42c015) then fails to intersect the offer's (42e01f);
      // with level-asymmetry-allowed=1 webrtcbin compares `profile` instead, and
      // our constrained-baseline fails a browser's baseline (42001f). Either way it
      // answered with the offer's first format (VP8). The profile was matched above,
      // so our caps take the offer's profile-level-id and profile (browsers decode
      // every level of a profile they accept).
      const rtpCapsFix = feed.codec === 'H264' ? offeredH264Caps(match.fmtp['profile-level-id']) : '';
      // TWCC only where the offer has the extension, with the offer's id.
      const transportCcId = offeredMedia[match.mlineIndex]?.ext?.find((extension) => extension.uri === TRANSPORT_CC_URI)?.value ?? null;
      return { feed, payloadType: match.payloadType, mlineIndex: match.mlineIndex, answerCaps, rtpCapsFix, transportCcId };
    });
  }

  /** Links a viewer's started branches to the tees, and starts its picture with a keyframe. */
  private feedViewer(viewer: Viewer): void {
    if (viewer.removal !== null || this.isClosed) return;
    // Synchronous on purpose: the tee pad is linked to the started branch at once, so that
    // removing the viewer always finds it linked (see teardown()).
    try {
      for (const track of viewer.tracks) {
        track.teePad = this.branches.requestPad(track.feed.layers[track.layer]!.tee, 'src_%u');
        this.branches.link(track.teePad, track.branch);
      }
    } catch (error) {
      this.dispatchError('error', error instanceof GstError ? error : new GstError(String(error)));
      void this.remove(viewer, 'failed');
      return;
    }
    this.requestKeyFrame(viewer.webrtcbin);
  }

  /**
   * Starts a viewer's congestion controller. Layers: each estimate picks the
   * layer (LayerSelector). No layers: the one encode follows the weakest viewer.
   */
  private controlViewer(viewer: Viewer, control: FanOutControl): void {
    // Layers probe by switching up, so the estimate may run ahead of what the viewer gets now.
    // Paced once its element exists (addViewer): making the pacer now would wait for the element.
    const controller = new CongestionController(viewer.webrtcbin, { ...control.limits, pacing: false }, viewer.selector === null);
    viewer.control = controller;
    controller.on('bitratechange', (change) => {
      if (change.reason !== 'increase') viewer.congestedAt = performance.now();
      if (viewer.selector === null) this.followWeakestViewer(change);
    });
    controller.on('sample', (sample, estimate) => {
      if (viewer.selector === null || viewer.removal !== null) return;
      const layer = viewer.selector.update(estimate, sample.time - viewer.congestedAt < control.limits.pollInterval, sample.time);
      const track = viewer.tracks.find((t) => t.feed.kind === 'video');
      if (track !== undefined && track.layer !== layer) this.switchLayer(viewer, track, layer);
    });
  }

  /** No layers: the one encode gets the lowest estimate among the viewers (within the limits). */
  private followWeakestViewer(change: BitrateChange): void {
    const control = this.control;
    if (control === null || this.isClosed) return;
    const estimates = [...this.viewerMap.values()].filter((v) => v.removal === null && v.control !== null).map((v) => v.control!.bitrate);
    if (estimates.length === 0) return;
    const target = Math.round(Math.min(control.limits.maxBitrate, Math.max(control.limits.minBitrate, Math.min(...estimates))));
    if (Math.abs(target - control.sharedTarget) < 0.05 * control.sharedTarget && target !== control.limits.minBitrate) return;
    const reason = target > control.sharedTarget ? 'increase' : change.reason === 'increase' ? 'delay' : change.reason;
    control.sharedTarget = target;
    control.sharedEncoder?.set(target);
    this.dispatch('bitratechange', { bitrate: target, reason });
  }

  /**
   * Moves a viewer's video to another layer's tee: the old link is undone once
   * no buffer is in flight, the new one drops what comes before the layer's
   * next keyframe, which is asked for at once (through the layer's limit).
   */
  private switchLayer(viewer: Viewer, track: ViewerTrack, layer: number): void {
    if (track.switching || track.teePad === null || this.isClosed) return;
    track.switching = true;
    const old = track.teePad;
    void this.unlinkWhenIdle(old).then(() => {
      track.switching = false;
      if (this.isClosed || viewer.removal !== null || this.pipeline.closed) return;
      this.branches.releasePad(old);
      try {
        const pad = this.branches.requestPad(track.feed.layers[layer]!.tee, 'src_%u');
        this.branches.dropUntilKeyframe(pad);
        this.branches.link(pad, track.branch);
        track.teePad = pad;
        track.layer = layer;
        this.paceLayer(viewer);
        this.branches.forceKeyUnit(pad);
      } catch (error) {
        this.dispatchError('error', error instanceof GstError ? error : new GstError(String(error)));
        void this.remove(viewer, 'failed');
        return;
      }
      this.dispatch('layerchange', viewer.webrtcbin, layer);
    });
  }

  /** With layers: the viewer's pacer goes at least by its layer's bitrate (the encode does not follow its estimate). */
  private paceLayer(viewer: Viewer): void {
    const track = viewer.tracks.find((t) => t.feed.kind === 'video');
    const bitrate = track?.feed.layers[track.layer]?.bitrate;
    if (viewer.control !== null && viewer.selector !== null && typeof bitrate === 'number') viewer.control.pacingFloor = bitrate;
  }

  /** A viewer's branch stopped taking media (its caps refused, an error inside its webrtcbin): it is removed. */
  private onBranchFailure(viewer: Viewer, kind: MediaKind, flow: string): void {
    if (viewer.removal !== null || this.isClosed) return;
    const error = new GstError(`${viewer.webrtcbin.name} stopped taking ${kind} (${flow}); it was removed, the other viewers are not affected`);
    error.source = viewer.webrtcbin.name;
    this.dispatchError('error', error);
    void this.remove(viewer, 'failed');
  }

  private remove(viewer: Viewer, reason: ViewerRemovedReason): Promise<void> {
    if (viewer.removal !== null) return viewer.removal;
    if (this.isClosed) return Promise.resolve(); // close() takes everything down at once
    viewer.removal = this.teardown(viewer).then(() => {
      this.viewerMap.delete(viewer.webrtcbin);
      // The weakest viewer may have left: the one encode may now go up.
      if (this.control !== null && this.control.layers.length === 0) this.followWeakestViewer({ bitrate: 0, reason: 'increase' });
      if (!this.isClosed) this.dispatch('viewerremoved', viewer.webrtcbin, reason);
    });
    return viewer.removal;
  }

  private async teardown(viewer: Viewer): Promise<void> {
    // 1. Unlink from the tees once no buffer is in flight: from then on the
    //    tees skip this viewer, and stopping it cannot reach the sources.
    await Promise.all(viewer.tracks.map((track) => (track.teePad === null ? undefined : this.unlinkWhenIdle(track.teePad))));
    if (this.isClosed) return;
    // 2. Stop and remove, 3. release the tee pads, 4. close the WebRtcBin.
    await this.destroy(viewer);
  }

  /**
   * Stops and removes a viewer's elements, releases its tee pads and closes its
   * WebRtcBin; resolves once the elements are gone (they stop on the pipeline's
   * native thread, in this order; stopping joins their threads). Never rejects.
   */
  private async destroy(viewer: Viewer): Promise<void> {
    viewer.control?.close();
    for (const track of viewer.tracks) track.guard?.dispose();
    const removals: Promise<void>[] = [];
    if (!this.pipeline.closed) {
      removals.push(this.branches.remove(viewer.webrtcbin.element.native));
      for (const track of viewer.tracks) removals.push(this.branches.remove(track.branch));
      for (const track of viewer.tracks) if (track.teePad !== null) this.branches.releasePad(track.teePad);
    }
    viewer.webrtcbin.close();
    await Promise.all(removals).catch(() => undefined); // only a pipeline closed meanwhile rejects: it removed everything
  }

  private unlinkWhenIdle(pad: NativeObject): Promise<void> {
    return new Promise((resolve) => {
      if (this.pipeline.closed) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.pendingUnlinks.delete(done);
        watch.dispose();
        resolve();
      };
      const watch = this.branches.unlinkWhenIdle(pad, done);
      // A tee pad behind a leaky queue is idle within one buffer; this bound only guards against a stuck element.
      const timer = setTimeout(done, UNLINK_TIMEOUT_MS);
      this.pendingUnlinks.add(done);
    });
  }

  private assertOpen(): void {
    if (this.isClosed) throw new InvalidStateError('the MediaFanOut is closed');
  }
}

/** A capssetter giving our H.264 RTP caps the offer's profile-level-id and profile ('' when the offer names none). */
function offeredH264Caps(profileLevelId: string | undefined): string {
  if (profileLevelId === undefined || !/^[0-9a-f]{6}$/i.test(profileLevelId)) return '';
  const { profile } = parseProfileLevelId(profileLevelId);
  const fields = [`profile-level-id=(string)${profileLevelId.toLowerCase()}`, ...(profile === null ? [] : [`profile=(string)${profile}`])];
  return ` ! capssetter caps="application/x-rtp, ${fields.join(', ')}"`;
}

/** The tee of one layer of a feed: layer 0 keeps the name it has without layers. */
function teeName(kind: MediaKind, layer: number): string {
  return layer === 0 ? `${kind}-tee` : `${kind}-tee-${layer}`;
}

/**
 * The congestionControl option, checked: needs raw video (passthrough H.264
 * cannot change its bitrate). Layers sorted best first.
 */
function checkCongestionControl(options: FanOutCongestionControl | undefined, video: RawVideoInput | H264VideoInput | undefined): FanOutControl | null {
  if (options === undefined) return null;
  if (typeof options !== 'object' || options === null) throw new TypeError('congestionControl must be an object');
  if (video === undefined || (typeof video === 'object' && video !== null && 'h264' in video)) {
    throw new TypeError('congestionControl needs raw video input ({ source }): passed-through H.264 cannot change its bitrate');
  }
  const limits = congestionLimits(options, 'congestionControl');
  const layers = options.layers ?? [];
  if (!Array.isArray(layers)) throw new TypeError('congestionControl.layers must be an array of { bitrate }');
  const bitrates = layers.map((layer, index) => {
    const bitrate = (layer as { bitrate?: unknown } | null)?.bitrate;
    if (typeof bitrate !== 'number' || !Number.isFinite(bitrate) || bitrate <= 0) throw new TypeError(`congestionControl.layers[${index}].bitrate must be a positive number (bit/s)`);
    return bitrate;
  });
  if (new Set(bitrates).size !== bitrates.length) throw new TypeError('congestionControl.layers must have different bitrates');
  bitrates.sort((a, b) => b - a);
  // One layer is no choice to make: the one encode follows the weakest viewer, as without layers.
  const ladder = bitrates.length > 1 ? bitrates : [];
  const sharedTarget = bitrates.length === 1 ? bitrates[0]! : limits.startBitrate;
  return { limits, layers: ladder, sharedEncoder: null, sharedTarget };
}

/**
 * The encode-once part of the video: from the source's output to the tee.
 * With layers, one encode per layer behind a tee of the raw video; the encoders
 * are named `video-encoder-<layer>`.
 */
function videoCore(video: RawVideoInput | H264VideoInput, control: FanOutControl | null): { description: string; codec: 'H264' | 'VP8' } {
  if (typeof video !== 'object' || video === null) throw new TypeError('video must be { source, codec? } or { h264 }');
  const tail = (layer: number) =>
    `tee name=${teeName('video', layer)} allow-not-linked=true ! queue leaky=downstream max-size-buffers=30 ! fakesink name=video-frames${layer === 0 ? '' : `-${layer}`} sync=false async=false`;
  if ('h264' in video) {
    if (typeof video.h264 !== 'string') throw new TypeError('video.h264 must be a pipeline description');
    // Passthrough: parse only, for SPS/PPS before each keyframe.
    return { description: `identity name=video-in ! ${H264_PARSER} ! ${tail(0)}`, codec: 'H264' };
  }
  if (typeof video.source !== 'string') throw new TypeError('video.source must be a pipeline description');
  const codec = video.codec ?? 'H264';
  if (codec !== 'H264' && codec !== 'VP8') throw new TypeError(`video.codec must be 'H264' or 'VP8', not ${JSON.stringify(codec)}`);
  const keyframeInterval = video.keyframeInterval ?? 60;
  if (!Number.isInteger(keyframeInterval) || keyframeInterval <= 0) throw new TypeError('keyframeInterval must be a positive integer (frames)');
  // Bitrates in kbit/s: the input's own, or the layers', or congestion control's start.
  const layerKbits = control === null ? [video.bitrate ?? 1500] : control.layers.length > 0 ? control.layers.map((b) => Math.round(b / 1000)) : [Math.round(control.sharedTarget / 1000)];
  const encoder = (layer: number) => {
    const bitrate = layerKbits[layer]!;
    if (!Number.isInteger(bitrate) || bitrate <= 0) throw new TypeError('bitrate must be a positive integer (kbit/s)');
    const name = `name=video-encoder-${layer}`;
    if (codec === 'H264') return h264EncoderFragment({ ...video, bitrate }).replace(/^(\S+)/, `$1 ${name}`);
    const adaptive = control === null ? '' : ` ${VP8_ADAPTIVE_SETTINGS}`;
    return `vp8enc ${name} deadline=1 cpu-used=8 end-usage=cbr target-bitrate=${bitrate * 1000} keyframe-max-dist=${keyframeInterval} error-resilient=partitions${adaptive}`;
  };
  // A leaky queue before each encoder: a live source never waits for a slow encoder.
  const head = 'videoconvert name=video-in ! queue max-size-buffers=2 leaky=downstream';
  if (layerKbits.length === 1) return { description: `${head} ! ${encoder(0)} ! ${tail(0)}`, codec };
  const layers = layerKbits.map((_, layer) => `video-raw-tee. ! queue max-size-buffers=2 leaky=downstream ! ${encoder(layer)} ! ${tail(layer)}`);
  return { description: [`videoconvert name=video-in ! tee name=video-raw-tee`, ...layers].join('  '), codec };
}

/** The encode-once part of the audio: raw audio to Opus, to the tee. */
function audioCore(audio: RawAudioInput): string {
  if (typeof audio !== 'object' || audio === null || typeof audio.source !== 'string') throw new TypeError('audio must be { source, bitrate? }');
  const bitrate = audio.bitrate ?? 64;
  if (!Number.isInteger(bitrate) || bitrate <= 0) throw new TypeError('audio bitrate must be a positive integer (kbit/s)');
  return (
    `audioconvert name=audio-in ! audioresample ! queue max-size-time=200000000 leaky=downstream ! opusenc bitrate=${bitrate * 1000} ! ` +
    `tee name=audio-tee allow-not-linked=true ! queue leaky=downstream max-size-buffers=50 ! fakesink name=audio-frames sync=false async=false`
  );
}
