import { EventEmitter } from 'node:events';

import { branchesOf } from './branch.js';
import { transceiverCaps } from './codecs.js';
import { checkDataChannelId } from './data-channel-guard.js';
import { DataChannel, type DataChannelInit } from './data-channel.js';
import { correctFingerprints, presentDtlsCertificate } from './dtls-certificate.js';
import { Element } from './element.js';
import { GstError, InvalidStateError, OperationError } from './errors.js';
import { applyFec, checkFec, type FecOptions, type FecSetting, hasFecChoice } from './fec.js';
import { configureIceAgent, iceAgentConfig, iceAgentSettings, prepareIceTransports } from './ice-agent.js';
import { collateIceConnectionState } from './ice-connection-state.js';
import { toWebRtcBinIceServers } from './ice-servers.js';
import { DEFAULT_RECEIVE_LATENCY_MS } from './jitterbuffer.js';
import { missingElementError, withInstallHint } from './missing-dependency.js';
import { native, type NativeObject, type NativeWebRtcBin, type ReceiverPlan } from './native.js';
import { Pipeline, registerWebRtcBinAttacher } from './pipeline.js';
import { nativePipeline, pipelineHandle, type Disposable } from './pipeline-handle.js';
import { receiveCapsFor } from './receive-feedback.js';
import { tuneRtcpTiming } from './rtcp-timing.js';
import { SafeEmitter, type ListenerErrorEvent } from './safe-emitter.js';
import { prepareSctpTransport } from './sctp-transport.js';
import { candidateMLine, checkDescription, isMdnsCandidate, isRejected, mediaMids, normalizeRemoteSdp, parseSdp, rejectAsOffered, withCandidate } from './sdp.js';
import { NegotiationGuard } from './sdp-guard.js';
import { toStatsReport, type RtcStatsReport } from './stats.js';
import { Track } from './track.js';
import { checkDirection, RtpTransceiver } from './transceiver.js';
import { prepareProcess } from './warm-up.js';
import type {
  BundlePolicy,
  IceCandidate,
  IceConnectionState,
  IceGatheringState,
  IceServer,
  IceTransportPolicy,
  MediaKind,
  PeerConnectionState,
  SdpType,
  SessionDescription,
  SessionDescriptionInit,
  SignalingState,
  TransceiverDirection,
} from './types.js';

/** Options of a standalone WebRtcBin (RTCConfiguration names). */
export interface WebRtcBinOptions {
  /** STUN/TURN servers. Default: none; on a LAN or localhost host candidates suffice. */
  iceServers?: IceServer[];
  /** Default 'max-bundle', which every browser accepts. */
  bundlePolicy?: BundlePolicy;
  /** 'relay' uses TURN only. Default 'all'. */
  iceTransportPolicy?: IceTransportPolicy;
  /**
   * Jitterbuffer latency for incoming media, in milliseconds: how long a missing
   * packet is waited for, and the delay of a playing sink. GStreamer's default is
   * 200. Where it starts: once a video track is linked it grows while packets
   * come too late, up to `track.link()`'s `maxLatency` (docs/receiving.md).
   */
  latency?: number;
  /** The element's name. Default: `webrtcbin<n>`, n counting the standalone WebRtcBins made so far (`webrtcbin0`, ...). */
  name?: string;
  /**
   * Milliseconds between two ICE connectivity checks (libnice's
   * `stun-pacing-timer`, RFC 8445's Ta), 1 to 1000. Default 1 without a TURN
   * server (checks go straight to the peer's addresses, a few dozen at most: a
   * loopback or LAN pair connects in a few milliseconds), 5 with one (every
   * check is a request the server relays; RFC 8445 asks for no more than one
   * every 5 ms). libnice's own default, 20, makes a loopback connection several
   * times slower.
   */
  iceCheckInterval?: number;
  /**
   * Gather TCP host candidates and use the peer's (ICE-TCP, RFC 6544). Default
   * false: UDP host candidates only, which every browser and WebRTC stack
   * reaches, and a third of the candidates to exchange, so a connection forms
   * sooner. Turn it on for a server that clients behind UDP-blocking firewalls
   * reach directly over TCP (TURN over TCP or TLS needs no ICE-TCP).
   */
  iceTcp?: boolean;
  /**
   * Forward error correction (ULPFEC in RED) for every video transceiver that
   * is not given a `fec` of its own: those of addTransceiver() and addTrack(),
   * and those made to answer a remote offer (they then accept the `red` and
   * `ulpfec` formats the offer has, as browsers offer them). Default: off
   * (null). NACK/RTX are on either way; see docs/loss-recovery.md for when FEC
   * helps.
   */
  fec?: FecOptions | null;
}

/** Options of addTransceiver() (RTCRtpTransceiverInit, and `fec`). */
export interface TransceiverInit {
  /** Default 'sendrecv'. */
  direction?: TransceiverDirection;
  /** Forward error correction (ULPFEC in RED) for a video transceiver, or null for none. Default: WebRtcBinOptions.fec. */
  fec?: FecOptions | null;
}

/** Options of addTrack(). */
export interface TrackInit {
  /** Forward error correction (ULPFEC in RED) for a video track, or null for none. Default: WebRtcBinOptions.fec. */
  fec?: FecOptions | null;
}

export interface WebRtcBinEvents extends ListenerErrorEvent {
  /** Negotiation is needed: create an offer, set it locally and send it (`on-negotiation-needed`). */
  negotiationneeded: [];
  /** A local candidate to send to the peer, or null when gathering is complete (`on-ice-candidate`). */
  icecandidate: [candidate: IceCandidate | null];
  connectionstatechange: [state: PeerConnectionState];
  iceconnectionstatechange: [state: IceConnectionState];
  icegatheringstatechange: [state: IceGatheringState];
  signalingstatechange: [state: SignalingState];
  /** Incoming media (`pad-added`): call `track.link(...)`; with no listener it is discarded. */
  track: [track: Track];
  /** The peer opened a data channel (`on-data-channel`). */
  datachannel: [channel: DataChannel];
  /**
   * The congestion controller of this sender (lib/media/congestion) set a new
   * target bitrate: `bitrate` in bit/s, `reason` 'delay', 'loss' or 'increase'.
   */
  bitratechange: [change: { bitrate: number; reason: 'delay' | 'loss' | 'increase' }];
  /** close() ran. */
  close: [];
}

type StateProperty = 'connection-state' | 'ice-connection-state' | 'ice-gathering-state';

const STATE_EVENTS: Record<StateProperty, 'connectionstatechange' | 'iceconnectionstatechange' | 'icegatheringstatechange'> = {
  'connection-state': 'connectionstatechange',
  'ice-connection-state': 'iceconnectionstatechange',
  'ice-gathering-state': 'icegatheringstatechange',
};

interface PendingReply {
  resolve: (reply: Record<string, unknown> | null) => void;
  reject: (error: Error) => void;
  release: () => void;
  operation: string;
}

interface NativeEvent {
  type: string;
  data: Record<string, unknown> | null;
}

/** Where each description type may be applied (W3C webrtc-pc, "set the session description"). */
const ALLOWED: Record<'local' | 'remote', Record<Exclude<SdpType, 'rollback'>, SignalingState[]>> = {
  local: {
    offer: ['stable', 'have-local-offer'],
    answer: ['have-remote-offer', 'have-local-pranswer'],
    pranswer: ['have-remote-offer', 'have-local-pranswer'],
  },
  remote: {
    offer: ['stable', 'have-remote-offer'],
    answer: ['have-local-offer', 'have-remote-pranswer'],
    pranswer: ['have-local-offer', 'have-remote-pranswer'],
  },
};

const ATTACH = Symbol('attach');

/** What the internal constructor attaches to: an existing element, or a new one it makes with that name. */
type AttachTo = { pipeline: Pipeline; element: NativeObject; configure?: boolean } | { pipeline: Pipeline; name: string };

/**
 * GStreamer's webrtcbin with the RTCPeerConnection API: Promises for offer,
 * answer and descriptions, W3C events for candidates and states.
 *
 * It behaves as a browser's peer connection does: createOffer, createAnswer,
 * setLocalDescription, setRemoteDescription and addIceCandidate run one at a
 * time in call order (the "operations chain"), their state checks happen when
 * they run, and each event reaches listeners as a task of its own, after the
 * continuations of promises settled before it.
 *
 * Standalone (`new WebRtcBin(options)`) it owns and plays its own pipeline
 * (`webrtcbin.pipeline`); add media with addTrack() and addTransceiver(). Inside
 * a pipeline of yours, get it with `pipeline.getWebRtcBin(name)`.
 */
export class WebRtcBin extends SafeEmitter<WebRtcBinEvents> {
  /** The pipeline this webrtcbin lives in. */
  readonly pipeline: Pipeline;
  private currentElement!: Element;
  private elementName = '';
  private native!: NativeWebRtcBin;
  private subscription!: Disposable;
  private iceAgent = iceAgentConfig({}, false);
  /** WebRtcBinOptions.fec: undefined when not given; unless on, nothing is looked at before an offer or answer. */
  private defaultFec: FecSetting | undefined;
  /** The jitterbuffers' latency as configured (webrtcbin's default when not), where a receiving track's latency policy starts. */
  private receiveLatency = DEFAULT_RECEIVE_LATENCY_MS;
  /** TURN servers beyond the first (webrtcbin's `turn-server` holds one), to give a replacement element too. */
  private turnServers: string[] = [];
  /** Transceivers made by addTransceiver(), which a replacement element must have too. */
  private readonly addedTransceivers: RtpTransceiver[] = [];
  /** A local re-offer that webrtcbin has not seen yet: applied together with its answer (see applyDescription). */
  private deferredOffer: string | null = null;
  private readonly ownsPipeline: boolean;
  private readonly pending = new Map<number, PendingReply>();
  private readonly channels = new Set<DataChannel>();
  private nextPromiseId = 1;
  private isClosed = false;
  /** webrtcbin asked for negotiation and nobody has been told yet (see announceNegotiation). */
  private negotiationWanted = false;
  private readonly capsWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  /** Settles once the element exists and what was asked to be done first is done (holdOperationsUntil); null then. */
  private ready: Promise<void> | null = null;
  /** Refuses what would hit a webrtcbin 1.22 assertion (lib/core/sdp-guard.ts). */
  private readonly guard = new NegotiationGuard();
  private states!: Record<StateProperty, string>;
  /** webrtcbin's ice-connection-state, over the transceivers' transports only; `states` has the collated one. */
  private transceiversIceState: IceConnectionState = 'new';
  /** The data channels' ICE transport's state, once there is one (native/webrtcbin.cc). */
  private dataChannelIceState: IceConnectionState | null = null;
  /** The operations chain: the tail of the operations queued so far, and how many have not finished. */
  private chainTail: Promise<void> = Promise.resolve();
  private queuedOperations = 0;
  /** Candidate and gathering events that arrived while setLocalDescription ran: delivered once it has resolved. */
  private heldEvents: NativeEvent[] | null = null;
  /** W3C signaling state and descriptions, kept here as the operations apply them (never read back from webrtcbin). */
  private signaling: SignalingState = 'stable';
  private pendingLocal: SessionDescription | null = null;
  private currentLocal: SessionDescription | null = null;
  private pendingRemote: SessionDescription | null = null;
  private currentRemote: SessionDescription | null = null;
  /** The text of the local description webrtcbin was last given: what its next offer is built from. */
  private appliedLocalSdp: string | null = null;
  /** The mids of localDescription's and remoteDescription's m-lines: every candidate needs them. */
  private localMids: (string | null)[] = [];
  private remoteMids: (string | null)[] = [];
  /** The congestion controller's estimate (bit/s), shown as the candidate pair's availableOutgoingBitrate. */
  private outgoingBitrate: number | null = null;

  /**
   * @internal Wraps an existing element (Pipeline does this). With `options`, it
   * is configured like a standalone one (`name` aside), e.g. for a fan-out viewer.
   */
  static attach(pipeline: Pipeline, element: NativeObject, options?: WebRtcBinOptions): WebRtcBin {
    return new WebRtcBin(options ?? {}, { [ATTACH]: { pipeline, element, configure: options !== undefined } });
  }

  /**
   * @internal A new webrtcbin named `name` in `pipeline`, configured by
   * `options`, e.g. a fan-out viewer. The element is made on the pipeline's
   * native thread (making one starts threads and waits for them); the WebRtcBin
   * is returned at once, and its operations wait until the element exists.
   */
  static createIn(pipeline: Pipeline, name: string, options: WebRtcBinOptions): WebRtcBin {
    return new WebRtcBin(options, { [ATTACH]: { pipeline, name } });
  }

  /**
   * A standalone webrtcbin in a pipeline of its own, already playing.
   * @throws TypeError for invalid options; MissingDependencyError when the WebRTC plugins are missing.
   */
  constructor(options?: WebRtcBinOptions);
  /** @internal */
  constructor(options: WebRtcBinOptions, internal: { [ATTACH]: AttachTo });
  constructor(options: WebRtcBinOptions = {}, internal?: { [ATTACH]: AttachTo }) {
    super();
    // The first connection needs the plugins and the DTLS certificate: prepare them now, off this thread.
    prepareProcess().catch(() => undefined);
    const attached = internal?.[ATTACH];
    const existing = attached !== undefined && 'element' in attached ? attached : undefined;
    const settings = existing === undefined || existing.configure === true ? checkOptions(options) : undefined;
    const pipeline = attached?.pipeline ?? createStandalone();
    this.pipeline = pipeline;
    this.ownsPipeline = attached === undefined;
    try {
      this.turnServers = settings?.iceServers.turn ?? [];
      this.iceAgent = iceAgentConfig(settings ?? {}, (settings?.iceServers.turn.length ?? 0) > 0);
      this.defaultFec = settings?.fec;
      this.receiveLatency = settings?.latency ?? DEFAULT_RECEIVE_LATENCY_MS;
      if (existing !== undefined) {
        if (settings !== undefined) configure(existing.element, settings);
        this.bind(existing.element);
      } else {
        // Made on the pipeline's native thread, configured there before it is added.
        const name = attached !== undefined && 'name' in attached ? attached.name : standaloneName(options.name);
        const { element, created } = branchesOf(pipeline).addElementLater('webrtcbin', name, elementSettings(settings!));
        this.bindCreated(element, name, created);
      }
    } catch (error) {
      if (this.ownsPipeline) pipeline.close();
      throw error;
    }
    // EventEmitter's own event, outside the typed event map.
    EventEmitter.prototype.on.call(this, 'newListener', (event: string) => event === 'negotiationneeded' && this.announceNegotiationSoon());
    if (this.ownsPipeline) {
      pipeline.adoptWebRtcBin(this);
      // Errors surface as the pipeline's `error` event; nothing to await here.
      pipeline.play().catch(() => undefined);
    }
  }

  /** Wraps a webrtcbin element: our handlers on its signals, and its states as they are now. */
  private bind(element: NativeObject): void {
    configureIceAgent(element, this.iceAgent);
    prepareIceTransports(element);
    presentDtlsCertificate(element);
    prepareSctpTransport(element);
    const bound = new native.NativeWebRtcBin(nativePipeline(this.pipeline), element);
    try {
      this.addTurnServers(bound);
    } catch (error) {
      bound.close();
      throw error;
    }
    this.attachNative(bound, element, element.name ?? '');
    this.isolateInputs();
    this.states = {
      'connection-state': element.get('connection-state') as string,
      'ice-connection-state': element.get('ice-connection-state') as string,
      'ice-gathering-state': element.get('ice-gathering-state') as string,
    };
    this.transceiversIceState = this.states['ice-connection-state'] as IceConnectionState;
  }

  /**
   * Wraps a webrtcbin the pipeline's native thread is still making (see
   * NativePipeline.addElementLater): our handlers are connected there as soon as
   * it exists, a new element's states are known, and the operations chain waits
   * for it (a failure to make it fails them, and is the pipeline's `error`).
   */
  private bindCreated(element: NativeObject, name: string, created: Promise<void>): void {
    const bound = new native.NativeWebRtcBin(nativePipeline(this.pipeline), element);
    this.attachNative(bound, element, name);
    this.states = { 'connection-state': 'new', 'ice-connection-state': 'new', 'ice-gathering-state': 'new' };
    const handle = pipelineHandle(this.pipeline);
    created.catch((error: unknown) => handle.reportError(error));
    this.holdOperationsUntil(created.then(() => !this.isClosed && (prepareIceTransports(element), presentDtlsCertificate(element), prepareSctpTransport(element), this.addTurnServers(bound))));
  }

  private attachNative(bound: NativeWebRtcBin, element: NativeObject, name: string): void {
    this.native = bound;
    this.currentElement = new Element(element, this);
    this.elementName = name;
    this.subscription = pipelineHandle(this.pipeline).subscribe(bound.id, 'webrtcbin', (event) => this.onNativeEvent(event.type, event.data));
  }

  /** webrtcbin's `turn-server` holds one server; the others are added. @throws TypeError for one it refuses. */
  private addTurnServers(bound: NativeWebRtcBin): void {
    for (const uri of this.turnServers) {
      if (!bound.addTurnServer(uri)) throw new TypeError(`webrtcbin refused the TURN server ${uri.replace(/\/\/[^@]*@/, '//')}`);
    }
  }

  /**
   * @internal The operations chain, getStats() and negotiationneeded wait until
   * `condition` settles (a fan-out viewer: until its media is linked); its
   * failure fails the operations queued meanwhile.
   */
  holdOperationsUntil(condition: Promise<unknown>): void {
    const ready = Promise.all([this.ready, condition]).then(() => undefined);
    ready.catch(() => undefined); // the operations waiting for it report the failure
    this.ready = ready;
    const settled = () => {
      if (this.ready !== ready) return;
      this.ready = null;
      this.announceNegotiation();
    };
    ready.then(settled, settled);
  }

  /** The webrtcbin element, for properties this class does not wrap. (A rollback before the first negotiation replaces it.) */
  get element(): Element {
    return this.currentElement;
  }

  /** The element's name (also after close()). */
  get name(): string {
    return this.elementName;
  }

  /** Whether close() has run (or its pipeline was closed). */
  get closed(): boolean {
    return this.isClosed || this.pipeline.closed;
  }

  get connectionState(): PeerConnectionState {
    return this.closed ? 'closed' : (this.states['connection-state'] as PeerConnectionState);
  }

  get iceConnectionState(): IceConnectionState {
    return this.closed ? 'closed' : (this.states['ice-connection-state'] as IceConnectionState);
  }

  get iceGatheringState(): IceGatheringState {
    return this.states['ice-gathering-state'] as IceGatheringState;
  }

  /** As in browsers, it changes when an operation that changes it resolves, with `signalingstatechange` just before. */
  get signalingState(): SignalingState {
    return this.closed ? 'closed' : this.signaling;
  }

  /** The pending local description if there is one, else the current one, or null. Gathered candidates are in it. */
  get localDescription(): SessionDescription | null {
    return this.pendingLocal ?? this.currentLocal;
  }

  /** The pending remote description if there is one, else the current one, or null. */
  get remoteDescription(): SessionDescription | null {
    return this.pendingRemote ?? this.currentRemote;
  }

  /** The local description of the last completed negotiation, or null. */
  get currentLocalDescription(): SessionDescription | null {
    return this.currentLocal;
  }

  /** The local offer or pranswer of a negotiation under way, or null. */
  get pendingLocalDescription(): SessionDescription | null {
    return this.pendingLocal;
  }

  /** The remote description of the last completed negotiation, or null. */
  get currentRemoteDescription(): SessionDescription | null {
    return this.currentRemote;
  }

  /** The remote offer or pranswer of a negotiation under way, or null. */
  get pendingRemoteDescription(): SessionDescription | null {
    return this.pendingRemote;
  }

  /**
   * Creates an SDP offer from the current transceivers and data channels
   * (`create-offer`). It first waits until every linked sink pad has caps, since
   * webrtcbin leaves out the m-line of a pad whose caps it does not know yet.
   * @throws InvalidStateError while a remote offer is pending, or once closed.
   */
  createOffer(): Promise<SessionDescription> {
    return this.chain(() => this.makeOffer());
  }

  /**
   * Creates an SDP answer to the remote offer (`create-answer`), once every
   * linked sink pad has caps, as createOffer() does.
   * @throws InvalidStateError unless a remote offer is pending.
   */
  createAnswer(): Promise<SessionDescription> {
    return this.chain(() => this.makeAnswer());
  }

  /**
   * Applies a local description (`set-local-description`). With no argument (or
   * no `sdp`) it creates the offer or answer the signaling state calls for, as
   * browsers do; `{ type: 'rollback' }` discards a local offer.
   * @throws TypeError for malformed input; InvalidStateError when the type does not fit the signaling state.
   */
  setLocalDescription(description?: SessionDescriptionInit): Promise<void> {
    if (this.closed) return Promise.reject(new InvalidStateError('the WebRtcBin is closed'));
    let checked: ReturnType<typeof checkDescription> | undefined;
    try {
      checked = description === undefined ? undefined : checkDescription(description, true);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.chain(async () => {
      if (checked?.type === 'rollback') return this.rollback('local');
      let type = checked?.type as Exclude<SdpType, 'rollback'> | undefined;
      let sdp = checked?.sdp;
      if (sdp === undefined) {
        const implicitOffer = type === undefined ? ['stable', 'have-local-offer', 'have-remote-pranswer'].includes(this.signaling) : type === 'offer';
        const created = implicitOffer ? await this.makeOffer() : await this.makeAnswer();
        type = type === 'pranswer' ? 'pranswer' : created.type as Exclude<SdpType, 'rollback'>;
        sdp = created.sdp;
      }
      await this.applyDescription('local', { type: type!, sdp });
    });
  }

  /**
   * Applies the peer's description (`set-remote-description`). A remote offer
   * that arrives while a local offer is pending rolls the local one back first,
   * as browsers do (the polite peer of "perfect negotiation");
   * `{ type: 'rollback' }` discards a remote offer.
   * @throws TypeError for malformed input; InvalidStateError when the type does not fit the signaling state.
   */
  setRemoteDescription(description: SessionDescriptionInit): Promise<void> {
    if (this.closed) return Promise.reject(new InvalidStateError('the WebRtcBin is closed'));
    let checked: ReturnType<typeof checkDescription>;
    try {
      checked = checkDescription(description);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.chain(async () => {
      if (checked.type === 'rollback') return this.rollback('remote');
      if (checked.type === 'offer' && this.signaling === 'have-local-offer') await this.rollback('local');
      await this.applyDescription('remote', { type: checked.type, sdp: checked.sdp! });
    });
  }

  /**
   * Adds a candidate from the peer (`add-ice-candidate`); null or an empty
   * candidate marks the end of candidates. It runs in the operations chain, so a
   * candidate handed over right after setRemoteDescription() was called waits
   * for it, as in browsers.
   * @throws TypeError (malformed), InvalidStateError (no remote description when it runs), OperationError (no such m-line).
   */
  addIceCandidate(candidate?: IceCandidate | null): Promise<void> {
    if (candidate !== null && candidate !== undefined && typeof candidate !== 'object') {
      return Promise.reject(new TypeError('a candidate must be an object { candidate, sdpMLineIndex?, sdpMid? }'));
    }
    return this.chain(async () => {
      if (this.remoteDescription === null) throw new InvalidStateError('addIceCandidate needs a remote description first');
      if (candidate === null || candidate === undefined || candidate.candidate === '') return;
      const mline = candidateMLine(candidate, this.remoteMids);
      const text = candidate.candidate.trim().replace(/^a=/, '');
      // Browsers hide host addresses behind mDNS names (<uuid>.local). webrtcbin
      // would hand them to the system's DNS resolver, which cannot resolve them and
      // sends a query off the machine. The connection forms anyway, through
      // peer-reflexive candidates, once our candidates reach the browser.
      if (isMdnsCandidate(text)) return;
      // GStreamer < 1.24 has no reply for this (add-ice-candidate-full came in 1.24).
      await this.request('addIceCandidate', (id) => this.native.addIceCandidate(id, mline, text));
    });
  }

  /** Statistics, keyed by id, with W3C type and field names (`get-stats`). Not part of the operations chain. */
  async getStats(): Promise<RtcStatsReport> {
    if (this.ready !== null) await this.ready;
    const report = toStatsReport(await this.request('getStats', (id) => this.native.getStats(id)));
    if (this.outgoingBitrate !== null) {
      for (const stats of Object.values(report)) if (stats.type === 'candidate-pair') stats.availableOutgoingBitrate = this.outgoingBitrate;
    }
    return report;
  }

  /**
   * @internal A congestion controller's new estimate (null: none any more):
   * kept for getStats() and told to `bitratechange` listeners.
   */
  reportOutgoingBitrate(change: { bitrate: number; reason: 'delay' | 'loss' | 'increase' } | null): void {
    this.outgoingBitrate = change?.bitrate ?? null;
    if (change !== null && !this.closed) this.dispatch('bitratechange', change);
  }

  /**
   * Adds a transceiver (`add-transceiver`): a kind ('video' offers VP8 and H.264,
   * 'audio' offers Opus) or RTP caps text of your own. `init.fec` turns forward
   * error correction on (FecOptions) or off (null) for a video transceiver;
   * default: WebRtcBinOptions.fec.
   * @throws TypeError for a bad direction, caps or `fec`, and for `fec` on audio.
   */
  addTransceiver(kindOrCaps: MediaKind | string, init: TransceiverInit = {}): RtpTransceiver {
    this.assertOpen();
    if (typeof kindOrCaps !== 'string') throw new TypeError("addTransceiver takes 'audio', 'video' or RTP caps text");
    if (typeof init !== 'object' || init === null) throw new TypeError('addTransceiver options must be an object');
    const direction = checkDirection(init.direction ?? 'sendrecv');
    const caps = kindOrCaps === 'audio' || kindOrCaps === 'video' ? transceiverCaps(kindOrCaps) : kindOrCaps;
    if (!caps.startsWith('application/x-rtp')) throw new TypeError(`transceiver caps must be application/x-rtp caps, not ${JSON.stringify(caps)}`);
    const video = kindOrCaps === 'video' || /media=(\(string\))?video\b/.test(caps);
    const fec = checkFec(init.fec);
    if (fec != null && !video) throw new TypeError('fec (ULPFEC in RED) is for video transceivers');
    const transceiver = new RtpTransceiver(this.native.addTransceiver(direction, caps), this, caps);
    // NACK and retransmission (RTX) for video, as browsers negotiate them.
    if (video) transceiver.native.set('do-nack', true);
    // null (off) given here wins over WebRtcBinOptions.fec.
    const fecSetting = video ? (fec !== undefined ? fec : this.defaultFec) : undefined;
    if (fecSetting !== undefined) applyFec(transceiver.native, fecSetting);
    this.addedTransceivers.push(transceiver);
    this.announceNegotiationSoon();
    return transceiver;
  }

  /** All transceivers, in m-line order. */
  getTransceivers(): RtpTransceiver[] {
    this.assertOpen();
    return this.native.getTransceivers().map((transceiver) => new RtpTransceiver(transceiver, this));
  }

  /**
   * Sends media: `description` is a source branch that ends in an RTP payloader,
   * e.g. `'videotestsrc is-live=true ! vp8enc deadline=1 ! rtpvp8pay'`. It is
   * linked to a new sink pad of the webrtcbin and started; negotiation follows.
   * `init.fec` turns forward error correction on (FecOptions) or off (null) for
   * a video track; default: WebRtcBinOptions.fec. Returns the branch.
   * @throws TypeError for a bad description or `fec`.
   */
  addTrack(description: string, init: TrackInit = {}): Element {
    this.assertOpen();
    if (typeof description !== 'string') throw new TypeError('addTrack takes a pipeline description');
    if (typeof init !== 'object' || init === null) throw new TypeError('addTrack options must be an object');
    const fec = checkFec(init.fec);
    const branch = this.pipeline.add(description);
    try {
      this.pipeline.link(branch, this.element);
    } catch (error) {
      this.pipeline.remove(branch);
      throw error;
    }
    if (fec !== undefined) {
      const linked = this.native.sinkPads().find(({ peer }) => (peer?.get('parent') as NativeObject | null)?.name === branch.name);
      const transceiver = linked?.pad.get('transceiver') as NativeObject | null | undefined;
      if (transceiver) applyFec(transceiver, fec);
    }
    this.isolateInputs();
    this.announceNegotiationSoon(); // once the branch's caps reach webrtcbin
    return branch;
  }

  /** Creates a data channel (`create-data-channel`); as in browsers, also before the pipeline plays. */
  createDataChannel(label: string, init: DataChannelInit = {}): DataChannel {
    this.assertOpen();
    if (typeof label !== 'string') throw new TypeError('a data channel label must be a string');
    const options = dataChannelOptions(init);
    checkDataChannelId(this.element.native, options.id);
    const { channel, target } = this.native.createDataChannel(label, options);
    this.announceNegotiationSoon();
    return this.trackChannel(new DataChannel(this.pipeline, channel, target, this.element.native, 'local'));
  }

  /**
   * Stops signalling and events, rejects pending operations with InvalidStateError
   * and closes data channels. A standalone WebRtcBin also closes its pipeline.
   * Idempotent.
   */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.native.close();
    this.subscription.dispose();
    const closedError = new InvalidStateError('the WebRtcBin was closed');
    for (const [id] of this.pending) this.settle(id, 'closed', null, closedError);
    for (const waiter of this.capsWaiters.splice(0)) waiter.reject(closedError);
    this.heldEvents = null;
    for (const channel of this.channels) channel.finish();
    if (this.ownsPipeline) this.pipeline.close();
    this.dispatch('close');
  }

  /**
   * Queues an operation on the chain: it starts once every earlier one has
   * settled, and fails with InvalidStateError if the WebRtcBin was closed by then.
   */
  private chain<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new InvalidStateError('the WebRtcBin is closed'));
    this.queuedOperations++;
    const ready = this.ready;
    const start = ready === null ? this.chainTail : this.chainTail.then(() => ready);
    const result = start.then(() => {
      this.assertOpen();
      return operation();
    });
    this.chainTail = result.then(
      () => this.operationFinished(),
      () => this.operationFinished(),
    );
    return result;
  }

  private operationFinished(): void {
    this.queuedOperations--;
    // W3C: negotiation-needed is re-checked once the chain is empty.
    if (this.queuedOperations === 0) this.announceNegotiation();
  }

  private async makeOffer(): Promise<SessionDescription> {
    if (this.signaling === 'have-remote-offer' || this.signaling === 'have-local-pranswer') {
      throw new InvalidStateError(`createOffer is not allowed in signaling state ${this.signaling}`);
    }
    this.guard.checkCreateOffer(this.signaling, this.channels.size > 0, this.appliedLocalSdp);
    await this.sinkCapsReady();
    this.applyDefaultFec();
    this.giveRejectedSectionsCaps();
    // NACK/RTX for video is turned on natively, just before (see NativeWebRtcBin.createOffer).
    return this.guard.created(descriptionFrom(await this.request('createOffer', (id) => this.native.createOffer(id, { videoNack: true })), 'offer'));
  }

  private async makeAnswer(): Promise<SessionDescription> {
    if (this.signaling !== 'have-remote-offer' && this.signaling !== 'have-local-pranswer') {
      throw new InvalidStateError(`createAnswer needs a remote offer (signaling state is ${this.signaling})`);
    }
    // As for an offer: an answer made before a sink pad has caps lacks its a=ssrc lines, and browsers drop that media.
    this.guard.checkCreateAnswer(this.signaling);
    await this.sinkCapsReady();
    this.applyDefaultFec();
    const answer = descriptionFrom(await this.request('createAnswer', (id) => this.native.createAnswer(id, { videoNack: true })), 'answer');
    const offer = this.remoteDescription;
    return this.guard.created(offer === null ? answer : { ...answer, sdp: rejectAsOffered(answer.sdp, offer.sdp) });
  }

  /**
   * WebRtcBinOptions.fec, given to the video transceivers that have no FEC
   * setting of their own: addTrack()'s (their kind is known from their sink
   * pad's caps) and those made for a remote offer. webrtcbin reads it when it
   * creates the offer or answer (it adds `red` and `ulpfec` then). Read on this
   * thread (get-transceivers takes webrtcbin's lock briefly), and only when the
   * option turns FEC on.
   */
  private applyDefaultFec(): void {
    const fec = this.defaultFec;
    // Off (null) is webrtcbin's own default: nothing to set.
    if (fec === undefined || fec === null) return;
    for (const { pad, peer } of this.native.sinkPads()) {
      const transceiver = pad.get('transceiver') as NativeObject | null;
      if (peer === null || transceiver === null || hasFecChoice(transceiver)) continue;
      if (/^application\/x-rtp\b.*\bmedia=(\(string\))?video\b/.test(String(pad.get('caps') ?? ''))) applyFec(transceiver, fec);
    }
    for (const transceiver of this.native.getTransceivers()) {
      if (transceiver.get('kind') === 'video' && !hasFecChoice(transceiver)) applyFec(transceiver, fec);
    }
  }

  /**
   * webrtcbin 1.22 makes a transceiver for each audio or video m-line of a
   * remote offer, also one it rejects (port 0, or a transport it does not
   * speak). That transceiver has an m-line but nothing to offer on it (no codec
   * preferences, no pad, no caps ever negotiated), and create-offer then retries
   * that m-line for ever on webrtcbin's thread (found by the fuzzer:
   * test/fixtures/fuzz/findings). Each such transceiver gets the default codecs
   * of its kind, so the next offer has the m-line again, as the transceiver's
   * direction says. Looked at only while a current description rejects an
   * audio or video m-line.
   */
  private giveRejectedSectionsCaps(): void {
    const rejected = new Set<number>();
    for (const description of [this.currentLocalDescription, this.currentRemoteDescription]) {
      if (description === null) continue;
      parseSdp(description.sdp).media.forEach((media, index) => {
        if ((media.type === 'audio' || media.type === 'video') && isRejected(media)) rejected.add(index);
      });
    }
    if (rejected.size === 0) return;
    for (const transceiver of this.native.getTransceivers()) {
      const kind = transceiver.get('kind');
      if (!rejected.has(Number(transceiver.get('mlineindex'))) || transceiver.get('codec-preferences') !== null) continue;
      if (kind === 'audio' || kind === 'video') transceiver.set('codec-preferences', transceiverCaps(kind));
    }
  }

  /** Applies an offer, answer or pranswer to webrtcbin, then updates the W3C state and tells listeners. */
  private async applyDescription(side: 'local' | 'remote', description: { type: Exclude<SdpType, 'rollback'>; sdp: string }): Promise<void> {
    const { type } = description;
    if (!ALLOWED[side][type].includes(this.signaling)) {
      throw new InvalidStateError(`a ${side} ${type} cannot be set in signaling state ${this.signaling}`);
    }
    // The transceivers' mids, read only when the guard needs them (a re-offer).
    const transceiverMids = () => this.native.getTransceivers().map((transceiver) => transceiver.get('mid') as string | null);
    if (side === 'local') this.guard.checkLocal({ type, sdp: description.sdp });
    else this.guard.checkRemote({ type, sdp: description.sdp }, transceiverMids, () => this.localDescription);
    if (side === 'local' && type === 'offer' && this.currentRemote !== null) {
      // A re-offer reaches webrtcbin with its answer, so that it can still be rolled
      // back (webrtcbin 1.22 has no rollback). Its transports exist already, so
      // nothing waits for it: no new candidates are gathered for a bundled re-offer.
      this.deferredOffer = description.sdp;
    } else if (side === 'local') {
      await this.applyLocal(type, description.sdp);
    } else {
      if (this.deferredOffer !== null && type !== 'offer') {
        await this.applyLocal('offer', this.deferredOffer);
        this.deferredOffer = null;
      }
      const sdp = normalizeRemoteSdp(description.sdp);
      const receivers = type === 'offer' ? receiversFor(sdp) : [];
      await this.request('setRemoteDescription', (id) => this.native.setRemoteDescription(id, type, sdp, receivers));
    }
    this.recordDescription(side, { type, sdp: description.sdp });
  }

  /** set-local-description; candidates gathered for it reach JS only after it has resolved, as in browsers. */
  private async applyLocal(type: Exclude<SdpType, 'rollback'>, sdp: string): Promise<void> {
    this.heldEvents ??= [];
    try {
      await this.request('setLocalDescription', (id) => this.native.setLocalDescription(id, type, sdp));
      this.appliedLocalSdp = sdp;
    } finally {
      queueMicrotask(() => this.releaseHeldEvents());
    }
  }

  /** W3C "set the RTCSessionDescription": the descriptions and the signaling state after one was applied. */
  private recordDescription(side: 'local' | 'remote', description: SessionDescription): void {
    const previous = this.signaling;
    if (description.type === 'answer') {
      if (side === 'local') {
        this.currentLocal = description;
        this.currentRemote = this.pendingRemote;
      } else {
        this.currentRemote = description;
        this.currentLocal = this.pendingLocal;
      }
      this.pendingLocal = null;
      this.pendingRemote = null;
      this.signaling = 'stable';
    } else if (side === 'local') {
      this.pendingLocal = description;
      this.signaling = description.type === 'offer' ? 'have-local-offer' : 'have-local-pranswer';
    } else {
      this.pendingRemote = description;
      this.signaling = description.type === 'offer' ? 'have-remote-offer' : 'have-remote-pranswer';
    }
    // Only this side's description changed: an answer makes the other side's pending
    // description current, with the same m-lines. (Reading SDP was most of the JS
    // thread's own work while many peers negotiate.)
    if (side === 'local') this.localMids = mediaMids(description.sdp);
    else this.remoteMids = mediaMids(description.sdp);
    // webrtcbin connects its inputs (and their clocksync) once a description is applied (see 'sink-caps').
    this.native.unpaceLiveInputs();
    tuneRtcpTiming(this.pipeline, this.element.native); // webrtcbin has made its RTP sessions by now
    if (this.signaling !== previous) this.dispatch('signalingstatechange', this.signaling);
  }

  private updateMids(): void {
    this.localMids = this.localDescription === null ? [] : mediaMids(this.localDescription.sdp);
    this.remoteMids = this.remoteDescription === null ? [] : mediaMids(this.remoteDescription.sdp);
  }

  /**
   * Discards the pending local or remote offer. webrtcbin 1.22 has no rollback:
   * see rollbackElement() for how it is done.
   */
  private async rollback(side: 'local' | 'remote'): Promise<void> {
    const allowed: SignalingState[] = side === 'local' ? ['have-local-offer', 'have-local-pranswer'] : ['have-remote-offer', 'have-remote-pranswer'];
    if (!allowed.includes(this.signaling)) throw new InvalidStateError(`a ${side} rollback cannot be done in signaling state ${this.signaling}`);
    await this.rollbackElement(side);
    if (side === 'local') this.pendingLocal = null;
    else this.pendingRemote = null;
    this.updateMids();
    this.signaling = 'stable';
    this.dispatch('signalingstatechange', 'stable');
  }

  /**
   * Brings webrtcbin itself back to where it was before the pending offer.
   * webrtcbin 1.22 cannot roll back, so: a local re-offer was never given to it
   * (see applyDescription) and is simply dropped; before the first negotiation
   * has completed, nothing negotiated can be lost, and the element is replaced by
   * a fresh one with the same settings, transceivers, linked media and data
   * channels. A remote re-offer, once applied, cannot be undone.
   */
  private async rollbackElement(side: 'local' | 'remote'): Promise<void> {
    if (side === 'local' && this.deferredOffer !== null) {
      this.deferredOffer = null;
      return;
    }
    if (this.currentRemote !== null) {
      throw new OperationError("GStreamer 1.22's webrtcbin cannot roll back a remote offer once a negotiation has completed");
    }
    this.replaceElement();
  }

  /** Swaps in a fresh webrtcbin element, as the old one was before any description (see rollbackElement). */
  private replaceElement(): void {
    this.appliedLocalSdp = null;
    const pipeline = nativePipeline(this.pipeline);
    const old = this.element.native;
    const settings = REPLACED_PROPERTIES.map((property) => [property, old.get(property)] as const);
    const links = this.native.sinkPads().flatMap(({ pad, peer }) => {
      if (peer === null) return [];
      const transceiver = pad.get('transceiver') as NativeObject | null;
      // A pad requested by name (`sink_<n>`) locked its transceiver to m-line n.
      const locked = transceiver !== null && transceiver.get('mlineindex') !== UNLOCKED_MLINE;
      return [{ name: pad.name!, peer, locked, direction: transceiver?.get('direction') ?? null, fec: transceiver === null ? null : fecProperties(transceiver) }];
    });
    // In their first order: webrtcbin numbers the pads it names itself from 0.
    links.sort((a, b) => padSerial(a.name) - padSerial(b.name));
    // Media from a pipeline description links straight into webrtcbin: its source
    // would stop (see isolateInputs). Refuse before anything changes.
    const unguarded = links.find((link) => !link.peer.is('GstGhostPad'));
    if (unguarded !== undefined) {
      throw new OperationError(
        `a rollback before the first negotiation needs a fresh webrtcbin (GStreamer 1.22 cannot roll back), and ${unguarded.peer.name} is linked into it directly; add media with addTrack() to make this WebRtcBin able to roll back`,
      );
    }
    const added = this.addedTransceivers.map((transceiver) => ({ transceiver, direction: transceiver.direction, caps: transceiver.codecPreferences, fec: fecProperties(transceiver.native) }));
    const channels = [...this.channels].map((channel) => ({ channel, label: channel.label, options: channelInit(channel) }));
    // The media linked to it waits while the element is swapped, rather than fail
    // as not-linked; a buffer inside the old element returns OK (see isolateInputs).
    for (const link of links) pipeline.blockPad(link.peer);
    // Forget the old element: none of its events or replies concern us any more.
    this.native.close();
    this.subscription.dispose();
    this.heldEvents = null;
    for (const [id] of this.pending) this.settle(id, 'rolled back', null, new InvalidStateError('a rollback replaced the webrtcbin'));
    const name = old.name ?? undefined;
    pipeline.removeElement(old);
    const element = pipeline.addElement('webrtcbin', name);
    for (const [property, value] of settings) if (value !== null && value !== undefined) element.set(property, value);
    this.bind(element);
    for (const link of links) {
      // Requested again as they were: by name only where the old one was locked to
      // its m-line. (webrtcbin 1.22 locks every pad requested by name, and does not
      // count it: a later addTrack()'s pad would get the same name, a CRITICAL.)
      const pad = pipeline.requestPad(element, link.locked ? link.name : 'sink_%u');
      pipeline.link(link.peer, pad);
      const transceiver = pad.get('transceiver') as NativeObject | null;
      if (link.direction !== null) transceiver?.set('direction', link.direction);
      if (link.fec !== null && transceiver !== null) setProperties(transceiver, link.fec);
    }
    for (const { transceiver, direction, caps, fec } of added) {
      transceiver.rebind(this.native.addTransceiver(direction, caps));
      setProperties(transceiver.native, fec);
    }
    for (const { channel, label, options } of channels) {
      const created = this.native.createDataChannel(label, options);
      channel.rebind(created.channel, created.target, element);
    }
    pipeline.syncState(element);
    this.isolateInputs();
    // A buffer the old element held (webrtcbin blocks its inputs until negotiated)
    // may have come back flushing and paused the branch's source: start each
    // branch afresh, so its media reaches the new element with its caps.
    for (const link of links) {
      const branch = link.peer.get('parent') as NativeObject | null;
      if (branch !== null) pipeline.restartElement(branch);
    }
    for (const link of links) pipeline.unblockPad(link.peer);
  }

  /**
   * A branch linked into webrtcbin (addTrack's, a fan-out viewer's) never sees
   * its failures: what webrtcbin returns, flushing included, reaches the branch
   * as OK. Before negotiation webrtcbin holds the first buffer in a pad block;
   * when a rollback replaces the element that buffer returns flushing, which
   * would stop the branch's source for good. And one refused stream does not stop
   * the others.
   */
  private isolateInputs(): void {
    for (const { peer } of this.native.sinkPads()) {
      if (peer?.is('GstGhostPad') === true) nativePipeline(this.pipeline).isolateFlow(peer);
    }
  }

  /**
   * Tells listeners that negotiation is needed, once it is worth doing. webrtcbin
   * (1.22) asks as soon as it starts, with nothing to negotiate, and as soon as a
   * sink pad is linked, before its caps are known (an offer made then lacks that
   * media); and it does not ask again while its flag stays set. So the request is
   * kept as state: announced when the signaling state is stable with no
   * operation queued (as W3C requires), there is something to negotiate, every
   * linked sink pad has caps and someone listens (a listener added later still
   * hears it).
   */
  private announceNegotiation(): void {
    if (!this.negotiationWanted || this.closed || this.ready !== null) return;
    if (this.signaling !== 'stable' || this.queuedOperations > 0) return;
    if (this.listenerCount('negotiationneeded') === 0) return;
    if (this.native.getTransceivers().length === 0 && this.channels.size === 0) return;
    if (this.native.pendingSinkCaps() > 0) return;
    this.negotiationWanted = false;
    this.dispatch('negotiationneeded');
  }

  /** After an API call that adds media: the announcement may now be due (asynchronously, as in browsers). */
  private announceNegotiationSoon(): void {
    setImmediate(() => this.announceNegotiation());
  }

  private async sinkCapsReady(timeoutMs = 10_000): Promise<void> {
    this.assertOpen();
    if (this.native.pendingSinkCaps() === 0) return;
    const release = this.pipeline.holdOperation();
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const waiter = { resolve, reject };
        this.capsWaiters.push(waiter);
        timer = setTimeout(() => {
          this.capsWaiters.splice(this.capsWaiters.indexOf(waiter), 1);
          reject(new GstError(`a sink pad of ${this.name} still has no caps after ${timeoutMs} ms; is the pipeline playing?`));
        }, timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      release();
    }
    this.assertOpen();
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidStateError('the WebRtcBin is closed');
  }

  private trackChannel(channel: DataChannel): DataChannel {
    this.channels.add(channel);
    channel.once('close', () => this.channels.delete(channel));
    if (this.connectionState === 'connected') channel.transportConnected();
    return channel;
  }

  /**
   * Starts a GstPromise-based operation; resolves with its reply structure.
   * `start` returns false when webrtcbin will send no reply (the operation is then done).
   */
  private request(operation: string, start: (id: number) => void | boolean): Promise<Record<string, unknown> | null> {
    this.assertOpen();
    const id = this.nextPromiseId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, release: this.pipeline.holdOperation(), operation });
      try {
        if (start(id) === false) this.settle(id, 'replied', null);
      } catch (error) {
        this.settle(id, 'failed', null, withInstallHint(error) as Error);
      }
    });
  }

  private settle(id: number, result: string, reply: Record<string, unknown> | null, error?: Error): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    pending.release();
    if (error !== undefined) pending.reject(error);
    else if (result !== 'replied') pending.reject(new GstError(`${pending.operation}: webrtcbin's promise was ${result}`));
    else if (reply?.error instanceof Error) pending.reject(reply.error);
    else pending.resolve(reply);
  }

  private onNativeEvent(type: string, data: Record<string, unknown> | null): void {
    if (this.isClosed) return;
    this.handleEvent({ type, data });
  }

  /** Delivers what was held while setLocalDescription ran, each as a task of its own, as it would have been. */
  private releaseHeldEvents(): void {
    const held = this.heldEvents;
    this.heldEvents = null;
    for (const event of held ?? []) setImmediate(() => this.onNativeEvent(event.type, event.data));
  }

  private handleEvent(event: NativeEvent): void {
    const { type, data } = event;
    const heldWhileSettingLocal = type === 'ice-candidate' || (type === 'state' && data?.property === 'ice-gathering-state');
    if (heldWhileSettingLocal && this.heldEvents !== null) {
      this.heldEvents.push(event);
      return;
    }
    switch (type) {
      case 'reply':
        this.settle(data?.id as number, data?.result as string, (data?.reply as Record<string, unknown> | undefined) ?? null);
        break;
      case 'negotiation-needed':
        this.negotiationWanted = true;
        this.announceNegotiation();
        break;
      case 'sink-caps':
        // webrtcbin 1.22 paces each input with a clocksync that syncs to the clock: a
        // buffer from a live source (a camera, a test pattern with is-live) then waits
        // the pipeline's latency, one frame at 30 fps, for nothing. A file or another
        // non-live source keeps that pacing, which sends it in real time. Done natively
        // on the actions thread (a latency query upstream, the clocksync's lock).
        this.native.unpaceLiveInputs();
        if (this.native.pendingSinkCaps() === 0) for (const waiter of this.capsWaiters.splice(0)) waiter.resolve();
        this.announceNegotiation();
        break;
      case 'ice-candidate':
        this.onLocalCandidate(data?.sdpMLineIndex as number, data?.candidate as string);
        break;
      case 'state': {
        let value = data?.value as string;
        if (data?.property === 'signaling-state') {
          // The signaling state is W3C's, kept by the operations (webrtcbin's changes before its
          // promise replies). But webrtcbin back in stable re-checks whether negotiation is needed
          // and asks again (after this event) if so: a request from before is answered by this
          // negotiation. Kept, it made a second, needless offer when caps arrived just before the first.
          if (value === 'stable') this.negotiationWanted = false;
          break;
        }
        let property = data?.property as StateProperty | 'sctp-ice-connection-state';
        if (property === 'ice-connection-state') this.transceiversIceState = value as IceConnectionState;
        if (property === 'sctp-ice-connection-state') this.dataChannelIceState = value as IceConnectionState;
        if (property === 'ice-connection-state' || property === 'sctp-ice-connection-state') {
          property = 'ice-connection-state';
          value = collateIceConnectionState(this.transceiversIceState, this.dataChannelIceState);
        }
        if (!(property in STATE_EVENTS) || this.states[property] === value) break;
        // Browsers go checking, connected, completed; libnice may report completed straight away.
        if (property === 'ice-connection-state' && value === 'completed' && (this.states[property] === 'checking' || this.states[property] === 'new')) {
          this.states[property] = 'connected';
          this.dispatch('iceconnectionstatechange', 'connected');
        }
        this.states[property] = value;
        // Data channels that do not open within their bound of this fail (reliability, issue 10 case 9).
        if (property === 'connection-state' && value === 'connected') for (const channel of this.channels) channel.transportConnected();
        this.dispatch(STATE_EVENTS[property], value as never);
        if (property === 'ice-gathering-state' && value === 'complete') this.dispatch('icecandidate', null);
        break;
      }
      case 'track': {
        const track = new Track(this.pipeline, data?.pad as NativeObject, String(data?.caps ?? ''), this.receiveLatency);
        // Media must never sit unlinked: with no listener, consume it.
        if (!this.dispatch('track', track)) track.discard();
        break;
      }
      case 'data-channel':
        this.dispatch('datachannel', this.trackChannel(new DataChannel(this.pipeline, data?.channel as NativeObject, data?.target as number, this.element.native, 'remote')));
        break;
    }
  }

  /** A gathered candidate: added to the local description (as browsers show it) and given to listeners with its mid. */
  private onLocalCandidate(sdpMLineIndex: number, candidate: string): void {
    const local = this.localDescription;
    if (local !== null) {
      const updated = { type: local.type, sdp: withCandidate(local.sdp, sdpMLineIndex, candidate) };
      if (this.pendingLocal !== null) this.pendingLocal = updated;
      else this.currentLocal = updated;
    }
    const sdpMid = this.localMids[sdpMLineIndex] ?? null;
    this.dispatch('icecandidate', { candidate, sdpMLineIndex, sdpMid });
  }
}

/** The webrtcbin settings a replacement element takes over (see replaceElement). */
/** A transceiver's `mlineindex` while no m-line is assigned to it (G_MAXUINT). */
const UNLOCKED_MLINE = 0xffffffff;

/** The number of a webrtcbin sink pad, `sink_<n>`. */
function padSerial(name: string): number {
  return Number(name.slice('sink_'.length));
}

/** A transceiver's FEC settings, which a replacement element's transceiver takes over (NACK is set again natively). */
function fecProperties(transceiver: NativeObject): [string, unknown][] {
  return ['fec-type', 'fec-percentage'].map((property) => [property, transceiver.get(property)]);
}

function setProperties(object: NativeObject, properties: [string, unknown][]): void {
  for (const [property, value] of properties) object.set(property, value);
}

const REPLACED_PROPERTIES = ['bundle-policy', 'ice-transport-policy', 'latency', 'stun-server', 'turn-server'];

/** The createDataChannel() options a channel was made with. */
function channelInit(channel: DataChannel): Record<string, unknown> {
  return dataChannelOptions({
    ordered: channel.ordered,
    protocol: channel.protocol,
    ...(channel.maxPacketLifeTime !== null ? { maxPacketLifeTime: channel.maxPacketLifeTime } : {}),
    ...(channel.maxRetransmits !== null ? { maxRetransmits: channel.maxRetransmits } : {}),
    ...(channel.negotiated ? { negotiated: true, id: channel.id ?? undefined } : {}),
  });
}

function configure(webrtcbin: NativeObject, settings: ReturnType<typeof checkOptions>): void {
  // webrtcbin 1.22 has no 'balanced' (it offers no BUNDLE group at all). Its
  // 'max-compat' offers the same group, with a transport per m-line until the
  // answer picks one: the closest it has.
  webrtcbin.set('bundle-policy', settings.bundlePolicy === 'balanced' ? 'max-compat' : settings.bundlePolicy);
  webrtcbin.set('ice-transport-policy', settings.iceTransportPolicy);
  if (settings.latency !== undefined) webrtcbin.set('latency', settings.latency);
  if (settings.iceServers.stun !== undefined) webrtcbin.set('stun-server', settings.iceServers.stun);
}

/** The pipeline of a standalone WebRtcBin (its webrtcbin is made on the pipeline's native thread). */
function createStandalone(): Pipeline {
  for (const factory of ['webrtcbin', 'nicesrc', 'dtlssrtpenc']) {
    if (!native.hasElement(factory)) throw missingElementError(factory);
  }
  return new Pipeline();
}

let standaloneCount = 0;

/** A standalone webrtcbin's name: the one asked for, else `webrtcbin<n>` as GStreamer would name it (known before it exists). */
function standaloneName(name: unknown): string {
  if (name !== undefined && typeof name !== 'string') throw new TypeError('name must be a string');
  return name ?? `webrtcbin${standaloneCount++}`;
}

/** What configure() and configureIceAgent() set, for an element made on the native thread (values as text). */
function elementSettings(settings: ReturnType<typeof checkOptions>): [string, string][] {
  const list: [string, string][] = [
    ['bundle-policy', settings.bundlePolicy === 'balanced' ? 'max-compat' : settings.bundlePolicy],
    ['ice-transport-policy', settings.iceTransportPolicy],
  ];
  if (settings.latency !== undefined) list.push(['latency', String(settings.latency)]);
  if (settings.iceServers.stun !== undefined) list.push(['stun-server', settings.iceServers.stun]);
  list.push(...iceAgentSettings(iceAgentConfig(settings, settings.iceServers.turn.length > 0)));
  return list;
}

/**
 * The m-sections of a remote offer that need a receiving transceiver made
 * here, with the feedback a sender adapts to (transport-cc, NACK/RTX, PLI, FIR;
 * see receive-feedback.ts): webrtcbin would make one itself, and answer without
 * them. Which of them a transceiver takes already (by mid, else one not yet
 * associated of the same kind, as webrtcbin matches them) is decided natively,
 * on the actions thread, just before the description is applied
 * (NativeWebRtcBin.setRemoteDescription). Counted by kind: a receiver made for a
 * section that an unassociated transceiver of the same kind will take gives
 * webrtcbin 1.22 two candidates, and its set-remote-description and
 * create-answer then pick different ones; the one left with a mid and no
 * transport crashes webrtcbin at the next ICE state change
 * (test/fixtures/fuzz/findings/sdp-recvonly-beside-own-audio.json).
 */
function receiversFor(sdp: string): ReceiverPlan[] {
  const receivers: ReceiverPlan[] = [];
  for (const media of parseSdp(sdp).media) {
    if (isRejected(media)) continue;
    const caps = receiveCapsFor(media);
    if (caps !== null) receivers.push({ mid: media.mid === undefined ? null : String(media.mid), caps, kind: media.type });
  }
  return receivers;
}

function descriptionFrom(reply: Record<string, unknown> | null, field: 'offer' | 'answer'): SessionDescription {
  const description = reply?.[field] as SessionDescription | undefined;
  if (description === undefined || typeof description.sdp !== 'string') throw new GstError(`webrtcbin gave no ${field}`);
  return { type: description.type, sdp: correctFingerprints(description.sdp) };
}

const BUNDLE_POLICIES = new Set(['balanced', 'max-compat', 'max-bundle', 'none']);

function checkOptions(options: WebRtcBinOptions) {
  if (typeof options !== 'object' || options === null) throw new TypeError('WebRtcBin options must be an object');
  const bundlePolicy = options.bundlePolicy ?? 'max-bundle';
  if (!BUNDLE_POLICIES.has(bundlePolicy)) throw new TypeError(`bundlePolicy must be 'balanced', 'max-compat', 'max-bundle' or 'none', not ${JSON.stringify(bundlePolicy)}`);
  const iceTransportPolicy = options.iceTransportPolicy ?? 'all';
  if (iceTransportPolicy !== 'all' && iceTransportPolicy !== 'relay') throw new TypeError(`iceTransportPolicy must be 'all' or 'relay', not ${JSON.stringify(iceTransportPolicy)}`);
  const { latency, iceCheckInterval, iceTcp } = options;
  if (iceTcp !== undefined && typeof iceTcp !== 'boolean') throw new TypeError('iceTcp must be a boolean');
  if (latency !== undefined && (!Number.isInteger(latency) || latency < 0)) throw new TypeError('latency must be a non-negative integer (milliseconds)');
  if (iceCheckInterval !== undefined && (!Number.isInteger(iceCheckInterval) || iceCheckInterval < 1 || iceCheckInterval > 1000)) {
    throw new TypeError('iceCheckInterval must be an integer from 1 to 1000 (milliseconds)');
  }
  const fec = checkFec(options.fec);
  return { bundlePolicy, iceTransportPolicy, latency, iceCheckInterval, iceTcp, fec, iceServers: toWebRtcBinIceServers(options.iceServers) };
}

function dataChannelOptions(init: DataChannelInit): Record<string, unknown> {
  if (typeof init !== 'object' || init === null) throw new TypeError('data channel options must be an object');
  const options: Record<string, unknown> = {};
  const integer = (name: keyof DataChannelInit, max: number) => {
    const value = init[name];
    if (value === undefined) return;
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > max) throw new TypeError(`${name} must be an integer from 0 to ${max}`);
    return value as number;
  };
  if (init.ordered !== undefined) options.ordered = Boolean(init.ordered);
  const lifetime = integer('maxPacketLifeTime', 65535);
  const retransmits = integer('maxRetransmits', 65535);
  if (lifetime !== undefined && retransmits !== undefined) throw new TypeError('maxPacketLifeTime and maxRetransmits cannot both be set');
  if (lifetime !== undefined) options['max-packet-lifetime'] = lifetime;
  if (retransmits !== undefined) options['max-retransmits'] = retransmits;
  if (init.protocol !== undefined) {
    if (typeof init.protocol !== 'string') throw new TypeError('protocol must be a string');
    options.protocol = init.protocol;
  }
  if (init.negotiated !== undefined) options.negotiated = Boolean(init.negotiated);
  const id = integer('id', 65534);
  if (id !== undefined) options.id = id;
  if (options.negotiated === true && id === undefined) throw new TypeError('a negotiated data channel needs an id');
  return options;
}

registerWebRtcBinAttacher((pipeline, element) => WebRtcBin.attach(pipeline, element));
