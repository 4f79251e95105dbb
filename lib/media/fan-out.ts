// One media source, encoded (or depayloaded) once, sent to many WebRTC viewers.
// Each viewer is a webrtcbin in the same pipeline, fed from a tee through a
// leaky queue and its own RTP payloader; viewers come and go while the others
// keep playing.
import { branchesOf, ignoreOutcome, type Branches } from '../core/branch.js';
import { chooseCodec, DEFAULT_PAYLOAD_TYPES, describeOffered, payloaderFor, type CodecCapability, type SendCodec } from '../core/codecs.js';
import { Element } from '../core/element.js';
import { GstError, InvalidStateError, OperationError } from '../core/errors.js';
import { DEFAULT_PROFILE_LEVEL_ID, h264EncoderFragment, H264_PARSER, parseProfileLevelId, type H264EncoderOptions } from '../core/h264.js';
import { toWebRtcBinIceServers } from '../core/ice-servers.js';
import { withInstallHint } from '../core/missing-dependency.js';
import type { NativeObject } from '../core/native.js';
import { Pipeline } from '../core/pipeline.js';
import type { Disposable } from '../core/pipeline-handle.js';
import { SafeEmitter, type ListenerErrorEvent } from '../core/safe-emitter.js';
import { RtpTransceiver } from '../core/transceiver.js';
import type { IceServer, IceTransportPolicy, MediaKind, SessionDescription } from '../core/types.js';
import { WebRtcBin } from '../core/webrtcbin.js';

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
  /** close() ran. */
  close: [];
}

interface Feed {
  kind: MediaKind;
  codec: SendCodec;
  tee: NativeObject;
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
  /** Target of the branch's flow guard (see NativePipeline.isolateFlow). */
  guard: Disposable;
}

interface Viewer {
  webrtcbin: WebRtcBin;
  tracks: ViewerTrack[];
  removal: Promise<void> | null;
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
  private readonly webrtcOptions: { iceServers?: IceServer[]; iceTransportPolicy?: IceTransportPolicy };
  private readonly maxViewerDelay: number;
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
    this.webrtcOptions = { iceServers: options.iceServers, iceTransportPolicy: options.iceTransportPolicy };

    const parts: string[] = [];
    const codecs: Partial<Record<MediaKind, SendCodec>> = {};
    if (video !== undefined) {
      const { description, codec } = videoCore(video);
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
        this.feeds.push({
          kind,
          codec: codecs[kind],
          tee: this.branches.element(`${kind}-tee`)!,
          input: this.pipeline.getElement(`${kind}-in`)!,
          framesSink: this.pipeline.getElement(`${kind}-frames`)!,
          source: null,
          sourceGeneration: 0,
          eosWatch: null,
        });
      }
      if (video !== undefined) this.setSource('video', 'h264' in video ? video.h264 : video.source);
      if (audio !== undefined) this.setSource('audio', audio.source);
    } catch (error) {
      this.pipeline.close();
      throw error;
    }
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
    const element = branches.addElement('webrtcbin', `viewer-${this.nextViewerId++}`);
    let webrtcbin: WebRtcBin;
    try {
      webrtcbin = WebRtcBin.attach(this.pipeline, element, { ...this.webrtcOptions, bundlePolicy: 'max-bundle' });
    } catch (error) {
      ignoreOutcome(branches.remove(element));
      throw error;
    }
    const viewer: Viewer = { webrtcbin, tracks: [], removal: null };
    try {
      for (const { feed, payloadType, mlineIndex, answerCaps, rtpCapsFix } of plan) {
        const branch = branches.addBin(
          `queue leaky=downstream max-size-buffers=0 max-size-bytes=0 max-size-time=${this.maxViewerDelay * 1_000_000} ! ${payloaderFor(feed.codec, payloadType)}${rtpCapsFix}`,
        );
        // Whatever happens in this viewer's branch, the tee (and so every other viewer) carries on.
        const guard = branches.isolateFlow(branches.pad(branch, 'sink')!, (flow) => this.onBranchFailure(viewer, feed.kind, flow));
        viewer.tracks.push({ feed, branch, teePad: null, guard });
        // sink_<n> is the transceiver of m-line n: it matches a remote offer's order.
        const sinkPad = branches.requestPad(element, `sink_${mlineIndex}`);
        branches.link(branch, sinkPad);
        const transceiver = new RtpTransceiver(sinkPad.get('transceiver') as NativeObject, webrtcbin);
        transceiver.direction = 'sendonly';
        if (answerCaps !== null) transceiver.setCodecPreferences(answerCaps);
      }
    } catch (error) {
      void this.destroy(viewer);
      throw withInstallHint(error);
    }
    this.viewerMap.set(webrtcbin, viewer);
    // Downstream first: a tee pad may only feed a branch that already plays. The
    // elements start on the pipeline's native thread; the tee feeds them after.
    Promise.all([branches.start(element), ...viewer.tracks.map((track) => branches.start(track.branch))]).then(
      () => this.feedViewer(viewer),
      (error: unknown) => {
        if (viewer.removal !== null || this.isClosed) return;
        this.dispatchError('error', error instanceof GstError ? error : new GstError(String(error)));
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
    for (const viewer of this.viewerMap.values()) viewer.webrtcbin.close();
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
      return this.feeds.map((feed, index) => ({ feed, payloadType: DEFAULT_PAYLOAD_TYPES[feed.codec], mlineIndex: index, answerCaps: null as string | null, rtpCapsFix: '' }));
    }
    if (typeof remoteOffer !== 'object' || remoteOffer === null || remoteOffer.type !== 'offer' || typeof remoteOffer.sdp !== 'string') {
      throw new TypeError("remoteOffer must be a session description of type 'offer'");
    }
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
      return { feed, payloadType: match.payloadType, mlineIndex: match.mlineIndex, answerCaps, rtpCapsFix };
    });
  }

  /** Links a viewer's started branches to the tees, and starts its picture with a keyframe. */
  private feedViewer(viewer: Viewer): void {
    if (viewer.removal !== null || this.isClosed) return;
    try {
      for (const track of viewer.tracks) {
        track.teePad = this.branches.requestPad(track.feed.tee, 'src_%u');
        this.branches.link(track.teePad, track.branch);
      }
    } catch (error) {
      this.dispatchError('error', error instanceof GstError ? error : new GstError(String(error)));
      void this.remove(viewer, 'failed');
      return;
    }
    this.requestKeyFrame(viewer.webrtcbin);
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
    for (const track of viewer.tracks) track.guard.dispose();
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

/** The encode-once part of the video: from the source's output to the tee. */
function videoCore(video: RawVideoInput | H264VideoInput): { description: string; codec: 'H264' | 'VP8' } {
  if (typeof video !== 'object' || video === null) throw new TypeError('video must be { source, codec? } or { h264 }');
  const tail = `tee name=video-tee allow-not-linked=true ! queue leaky=downstream max-size-buffers=30 ! fakesink name=video-frames sync=false async=false`;
  if ('h264' in video) {
    if (typeof video.h264 !== 'string') throw new TypeError('video.h264 must be a pipeline description');
    // Passthrough: parse only, for SPS/PPS before each keyframe.
    return { description: `identity name=video-in ! ${H264_PARSER} ! ${tail}`, codec: 'H264' };
  }
  if (typeof video.source !== 'string') throw new TypeError('video.source must be a pipeline description');
  const codec = video.codec ?? 'H264';
  // A leaky queue before the encoder: a live source never waits for a slow encoder.
  const head = 'videoconvert name=video-in ! queue max-size-buffers=2 leaky=downstream';
  if (codec === 'H264') return { description: `${head} ! ${h264EncoderFragment(video)} ! ${tail}`, codec };
  if (codec !== 'VP8') throw new TypeError(`video.codec must be 'H264' or 'VP8', not ${JSON.stringify(codec)}`);
  const bitrate = video.bitrate ?? 1500;
  const keyframeInterval = video.keyframeInterval ?? 60;
  if (!Number.isInteger(bitrate) || bitrate <= 0) throw new TypeError('bitrate must be a positive integer (kbit/s)');
  if (!Number.isInteger(keyframeInterval) || keyframeInterval <= 0) throw new TypeError('keyframeInterval must be a positive integer (frames)');
  const encoder = `vp8enc deadline=1 cpu-used=8 end-usage=cbr target-bitrate=${bitrate * 1000} keyframe-max-dist=${keyframeInterval} error-resilient=partitions`;
  return { description: `${head} ! ${encoder} ! ${tail}`, codec };
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
