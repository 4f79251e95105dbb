import { EventEmitter } from 'node:events';

import { DataChannel, type DataChannelInit } from './data-channel.js';
import { checkDataChannelId } from './data-channel-guard.js';
import { Element } from './element.js';
import { GstError, InvalidStateError } from './errors.js';
import { toWebRtcBinIceServers } from './ice-servers.js';
import { missingElementError, withInstallHint } from './missing-dependency.js';
import { native, type NativeObject, type NativeWebRtcBin } from './native.js';
import { Pipeline } from './pipeline.js';
import { SafeEmitter, type ListenerErrorEvent } from './safe-emitter.js';
import { candidateMLine, checkDescription, isMdnsCandidate, mediaMids } from './sdp.js';
import { NegotiationGuard, sdpForWebRtcBin } from './sdp-guard.js';
import { toStatsReport, type RtcStatsReport } from './stats.js';
import { Track } from './track.js';
import { checkDirection, RtpTransceiver } from './transceiver.js';
import type {
  BundlePolicy,
  IceCandidate,
  IceConnectionState,
  IceGatheringState,
  IceServer,
  IceTransportPolicy,
  MediaKind,
  PeerConnectionState,
  SessionDescription,
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
  /** Jitterbuffer latency for incoming media, in milliseconds. GStreamer's default is 200. */
  latency?: number;
  /** The element's name. Default: GStreamer picks one (`webrtcbin0`). */
  name?: string;
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
  /** close() ran. */
  close: [];
}

type StateProperty = 'connection-state' | 'ice-connection-state' | 'ice-gathering-state' | 'signaling-state';

const STATE_EVENTS: Record<StateProperty, 'connectionstatechange' | 'iceconnectionstatechange' | 'icegatheringstatechange' | 'signalingstatechange'> = {
  'connection-state': 'connectionstatechange',
  'ice-connection-state': 'iceconnectionstatechange',
  'ice-gathering-state': 'icegatheringstatechange',
  'signaling-state': 'signalingstatechange',
};

/** Caps offered by addTransceiver('video' | 'audio'): codecs every browser decodes. */
const DEFAULT_CAPS: Record<MediaKind, string> = {
  video:
    'application/x-rtp, media=video, encoding-name=VP8, payload=96, clock-rate=90000; ' +
    'application/x-rtp, media=video, encoding-name=H264, payload=102, clock-rate=90000, packetization-mode=(string)1, profile-level-id=(string)42e01f',
  audio: 'application/x-rtp, media=audio, encoding-name=OPUS, payload=111, clock-rate=48000, encoding-params=(string)2',
};

interface PendingReply {
  resolve: (reply: Record<string, unknown> | null) => void;
  reject: (error: Error) => void;
  release: () => void;
  operation: string;
}

const ATTACH = Symbol('attach');

/**
 * GStreamer's webrtcbin with the RTCPeerConnection API: Promises for offer,
 * answer and descriptions, W3C events for candidates and states.
 *
 * Standalone (`new WebRtcBin(options)`) it owns and plays its own pipeline
 * (`webrtcbin.pipeline`); add media with addTrack() and addTransceiver(). Inside
 * a pipeline of yours, get it with `pipeline.getWebRtcBin(name)`.
 */
export class WebRtcBin extends SafeEmitter<WebRtcBinEvents> {
  /** The pipeline this webrtcbin lives in. */
  readonly pipeline: Pipeline;
  /** The webrtcbin element, for properties this class does not wrap. */
  readonly element: Element;
  private readonly native: NativeWebRtcBin;
  private readonly ownsPipeline: boolean;
  private readonly pending = new Map<number, PendingReply>();
  private readonly channels = new Set<DataChannel>();
  private nextPromiseId = 1;
  private isClosed = false;
  /** webrtcbin asked for negotiation and nobody has been told yet (see announceNegotiation). */
  private negotiationWanted = false;
  private readonly capsWaiters: (() => void)[] = [];
  /** Refuses what would hit a webrtcbin 1.22 assertion (lib/core/sdp-guard.ts). */
  private readonly guard = new NegotiationGuard();
  private states: Record<StateProperty, string>;
  /**
   * The m-lines' mids of the descriptions last applied. Every candidate needs
   * them; reading them back from webrtcbin each time (a locked property read and
   * an SDP copy) stalled the event loop with many peers.
   */
  private localMids: (string | null)[] = [];
  private remoteMids: (string | null)[] | null = null;

  /**
   * @internal Wraps an existing element (Pipeline does this). With `options`, it
   * is configured like a standalone one (`name` aside), e.g. for a fan-out viewer.
   */
  static attach(pipeline: Pipeline, element: NativeObject, options?: WebRtcBinOptions): WebRtcBin {
    return new WebRtcBin(options ?? {}, { [ATTACH]: { pipeline, element, configure: options !== undefined } });
  }

  /**
   * A standalone webrtcbin in a pipeline of its own, already playing.
   * @throws TypeError for invalid options; MissingDependencyError when the WebRTC plugins are missing.
   */
  constructor(options?: WebRtcBinOptions);
  /** @internal */
  constructor(options: WebRtcBinOptions, internal: { [ATTACH]: { pipeline: Pipeline; element: NativeObject; configure?: boolean } });
  constructor(options: WebRtcBinOptions = {}, internal?: { [ATTACH]: { pipeline: Pipeline; element: NativeObject; configure?: boolean } }) {
    super();
    const attached = internal?.[ATTACH];
    const settings = attached === undefined || attached.configure === true ? checkOptions(options) : undefined;
    const { pipeline, element } = attached ?? createStandalone(options.name);
    this.pipeline = pipeline;
    this.element = new Element(element, this);
    this.ownsPipeline = attached === undefined;
    try {
      disableUpnp(element);
      if (settings !== undefined) this.configure(settings);
      this.native = new native.NativeWebRtcBin(pipeline.native, element);
      for (const uri of settings?.iceServers.turn ?? []) {
        if (!this.native.addTurnServer(uri)) throw new TypeError(`webrtcbin refused the TURN server ${uri.replace(/\/\/[^@]*@/, '//')}`);
      }
    } catch (error) {
      if (this.ownsPipeline) pipeline.close();
      throw error;
    }
    pipeline.registerTarget(this.native.id, (type, data) => this.onNativeEvent(type, data));
    // EventEmitter's own event, outside the typed event map.
    EventEmitter.prototype.on.call(this, 'newListener', (event: string) => event === 'negotiationneeded' && this.announceNegotiationSoon());
    this.states = {
      'connection-state': this.element.get('connection-state') as string,
      'ice-connection-state': this.element.get('ice-connection-state') as string,
      'ice-gathering-state': this.element.get('ice-gathering-state') as string,
      'signaling-state': this.element.get('signaling-state') as string,
    };
    if (this.ownsPipeline) {
      pipeline.adoptWebRtcBin(this);
      // Errors surface as the pipeline's `error` event; nothing to await here.
      pipeline.play().catch(() => undefined);
    }
  }

  private configure(settings: ReturnType<typeof checkOptions>): void {
    this.element.set('bundle-policy', settings.bundlePolicy);
    this.element.set('ice-transport-policy', settings.iceTransportPolicy);
    if (settings.latency !== undefined) this.element.set('latency', settings.latency);
    if (settings.iceServers.stun !== undefined) this.element.set('stun-server', settings.iceServers.stun);
  }

  /** The element's name. */
  get name(): string {
    return this.element.name ?? '';
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

  get signalingState(): SignalingState {
    return this.closed ? 'closed' : (this.states['signaling-state'] as SignalingState);
  }

  /** The pending local description if there is one, else the current one, or null. */
  get localDescription(): SessionDescription | null {
    return this.closed ? null : (this.element.get('local-description') as SessionDescription | null);
  }

  /** The pending remote description if there is one, else the current one, or null. */
  get remoteDescription(): SessionDescription | null {
    return this.closed ? null : (this.element.get('remote-description') as SessionDescription | null);
  }

  /**
   * Creates an SDP offer from the current transceivers and data channels
   * (`create-offer`). It first waits until every linked sink pad has caps, since
   * webrtcbin leaves out the m-line of a pad whose caps it does not know yet.
   */
  async createOffer(): Promise<SessionDescription> {
    this.guard.checkCreateOffer(this.signalingState, this.channels.size > 0);
    await this.sinkCapsReady();
    const reply = await this.request('createOffer', (id) => this.native.createOffer(id));
    return this.guard.created(descriptionFrom(reply, 'offer'));
  }

  /** Creates an SDP answer to the remote offer (`create-answer`). */
  async createAnswer(): Promise<SessionDescription> {
    this.guard.checkCreateAnswer(this.signalingState);
    const reply = await this.request('createAnswer', (id) => this.native.createAnswer(id));
    return this.guard.created(descriptionFrom(reply, 'answer'));
  }

  /** Applies a local description (`set-local-description`). @throws TypeError for malformed input. */
  async setLocalDescription(description: SessionDescription): Promise<void> {
    this.assertOpen();
    const { type, sdp } = checkDescription(description);
    this.guard.checkLocal({ type, sdp });
    await this.request('setLocalDescription', (id) => this.native.setLocalDescription(id, type, sdpForWebRtcBin(type, sdp)));
    this.localMids = type === 'rollback' ? midsOf(this.localDescription) : mediaMids(sdp);
  }

  /** Applies the peer's description (`set-remote-description`). @throws TypeError for malformed input. */
  async setRemoteDescription(description: SessionDescription): Promise<void> {
    this.assertOpen();
    const { type, sdp } = checkDescription(description);
    this.guard.checkRemote({ type, sdp }, () => this.native.getTransceivers().map((transceiver) => transceiver.get('mid') as string | null), () => this.localDescription);
    await this.request('setRemoteDescription', (id) => this.native.setRemoteDescription(id, type, sdpForWebRtcBin(type, sdp)));
    const remote = type === 'rollback' ? this.remoteDescription : description;
    this.remoteMids = remote === null ? null : mediaMids(remote.sdp);
  }

  /**
   * Adds a candidate from the peer (`add-ice-candidate`); null or an empty
   * candidate marks the end of candidates. Like RTCPeerConnection, it needs the
   * remote description first.
   * @throws TypeError (malformed), InvalidStateError (no remote description), OperationError (no such m-line).
   */
  async addIceCandidate(candidate: IceCandidate | null | undefined): Promise<void> {
    this.assertOpen();
    if (candidate === null || candidate === undefined || candidate.candidate === '') return;
    if (typeof candidate !== 'object') throw new TypeError('a candidate must be an object { candidate, sdpMLineIndex?, sdpMid? }');
    if (this.remoteMids === null) throw new InvalidStateError('addIceCandidate needs a remote description first');
    const mline = candidateMLine(candidate, this.remoteMids);
    const text = candidate.candidate.trim().replace(/^a=/, '');
    // Browsers hide host addresses behind mDNS names (<uuid>.local). webrtcbin
    // would hand them to the system's DNS resolver, which cannot resolve them and
    // sends a query off the machine. The connection forms anyway, through
    // peer-reflexive candidates, once our candidates reach the browser.
    if (isMdnsCandidate(text)) return;
    // GStreamer < 1.24 has no reply for this (add-ice-candidate-full came in 1.24).
    await this.request('addIceCandidate', (id) => this.native.addIceCandidate(id, mline, text));
  }

  /** Statistics, keyed by id, with W3C type and field names (`get-stats`). */
  async getStats(): Promise<RtcStatsReport> {
    return toStatsReport(await this.request('getStats', (id) => this.native.getStats(id)));
  }

  /**
   * Adds a transceiver (`add-transceiver`): a kind ('video' offers VP8 and H.264,
   * 'audio' offers Opus) or RTP caps text of your own.
   */
  addTransceiver(kindOrCaps: MediaKind | string, init: { direction?: TransceiverDirection } = {}): RtpTransceiver {
    this.assertOpen();
    if (typeof kindOrCaps !== 'string') throw new TypeError("addTransceiver takes 'audio', 'video' or RTP caps text");
    const direction = checkDirection(init.direction ?? 'sendrecv');
    const caps = kindOrCaps === 'audio' || kindOrCaps === 'video' ? DEFAULT_CAPS[kindOrCaps] : kindOrCaps;
    if (!caps.startsWith('application/x-rtp')) throw new TypeError(`transceiver caps must be application/x-rtp caps, not ${JSON.stringify(caps)}`);
    const transceiver = new RtpTransceiver(this.native.addTransceiver(direction, caps), this);
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
   * Returns the branch.
   */
  addTrack(description: string): Element {
    this.assertOpen();
    if (typeof description !== 'string') throw new TypeError('addTrack takes a pipeline description');
    const branch = this.pipeline.add(description);
    try {
      this.pipeline.link(branch, this.element);
    } catch (error) {
      this.pipeline.remove(branch);
      throw error;
    }
    this.announceNegotiationSoon(); // once the branch's caps reach webrtcbin
    return branch;
  }

  /** Creates a data channel (`create-data-channel`). */
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
    this.pipeline.unregisterTarget(this.native.id);
    const closedError = new InvalidStateError('the WebRtcBin was closed');
    for (const [id, pending] of this.pending) this.settle(id, 'closed', null, closedError);
    for (const wake of this.capsWaiters.splice(0)) wake(); // createOffer() then finds the WebRtcBin closed
    for (const channel of this.channels) channel.finish();
    if (this.ownsPipeline) this.pipeline.close();
    this.dispatch('close');
  }

  /**
   * Tells listeners that negotiation is needed, once it is worth doing. webrtcbin
   * (1.22) asks as soon as it starts, with nothing to negotiate, and as soon as a
   * sink pad is linked, before its caps are known (an offer made then lacks that
   * media); and it does not ask again while its flag stays set. So the request is
   * kept as state: announced when there is something to negotiate, every linked
   * sink pad has caps and someone listens (a listener added later still hears it).
   */
  private announceNegotiation(): void {
    if (!this.negotiationWanted || this.closed) return;
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
        this.capsWaiters.push(resolve);
        timer = setTimeout(() => reject(new GstError(`createOffer: a sink pad of ${this.name} still has no caps after ${timeoutMs} ms; is the pipeline playing?`)), timeoutMs);
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
    switch (type) {
      case 'reply':
        this.settle(data?.id as number, data?.result as string, (data?.reply as Record<string, unknown> | undefined) ?? null);
        break;
      case 'negotiation-needed':
        this.negotiationWanted = true;
        this.announceNegotiation();
        break;
      case 'sink-caps':
        if (this.native.pendingSinkCaps() === 0) for (const resolve of this.capsWaiters.splice(0)) resolve();
        this.announceNegotiation();
        break;
      case 'ice-candidate': {
        const sdpMLineIndex = data?.sdpMLineIndex as number;
        const sdpMid = this.localMids[sdpMLineIndex] ?? null;
        this.dispatch('icecandidate', { candidate: data?.candidate as string, sdpMLineIndex, sdpMid });
        break;
      }
      case 'state': {
        const property = data?.property as StateProperty;
        const value = data?.value as string;
        if (!(property in STATE_EVENTS) || this.states[property] === value) break;
        this.states[property] = value;
        this.dispatch(STATE_EVENTS[property], value as never);
        if (property === 'ice-gathering-state' && value === 'complete') this.dispatch('icecandidate', null);
        break;
      }
      case 'track': {
        const track = new Track(this.pipeline, data?.pad as NativeObject, String(data?.caps ?? ''));
        // Media must never sit unlinked: with no listener, consume it.
        if (!this.dispatch('track', track)) track.discard();
        break;
      }
      case 'data-channel':
        this.dispatch('datachannel', this.trackChannel(new DataChannel(this.pipeline, data?.channel as NativeObject, data?.target as number, this.element.native, 'remote')));
        break;
    }
  }
}

/**
 * libnice asks the LAN's router for UPnP port mappings by default (SSDP
 * multicast, an HTTP server, extra threads). A library must not talk to the
 * network on its own, and host or STUN/TURN candidates are what WebRTC uses.
 */
function disableUpnp(webrtcbin: NativeObject): void {
  const iceAgent = webrtcbin.get('ice-agent') as NativeObject | null;
  const niceAgent = iceAgent?.propertyNames().includes('agent') ? (iceAgent.get('agent') as NativeObject | null) : null;
  if (niceAgent?.propertyNames().includes('upnp')) niceAgent.set('upnp', false);
}

/** A new pipeline holding one webrtcbin. */
function createStandalone(name: string | undefined): { pipeline: Pipeline; element: NativeObject } {
  for (const factory of ['webrtcbin', 'nicesrc', 'dtlssrtpenc']) {
    if (!native.hasElement(factory)) throw missingElementError(factory);
  }
  if (name !== undefined && typeof name !== 'string') throw new TypeError('name must be a string');
  const pipeline = new Pipeline();
  try {
    return { pipeline, element: pipeline.native.addElement('webrtcbin', name) };
  } catch (error) {
    pipeline.close();
    throw error;
  }
}

function midsOf(description: SessionDescription | null): (string | null)[] {
  return description === null ? [] : mediaMids(description.sdp);
}

function descriptionFrom(reply: Record<string, unknown> | null, field: 'offer' | 'answer'): SessionDescription {
  const description = reply?.[field] as SessionDescription | undefined;
  if (description === undefined || typeof description.sdp !== 'string') throw new GstError(`webrtcbin gave no ${field}`);
  return { type: description.type, sdp: description.sdp };
}

const BUNDLE_POLICIES = new Set(['balanced', 'max-compat', 'max-bundle', 'none']);

function checkOptions(options: WebRtcBinOptions) {
  if (typeof options !== 'object' || options === null) throw new TypeError('WebRtcBin options must be an object');
  const bundlePolicy = options.bundlePolicy ?? 'max-bundle';
  if (!BUNDLE_POLICIES.has(bundlePolicy)) throw new TypeError(`bundlePolicy must be 'balanced', 'max-compat', 'max-bundle' or 'none', not ${JSON.stringify(bundlePolicy)}`);
  const iceTransportPolicy = options.iceTransportPolicy ?? 'all';
  if (iceTransportPolicy !== 'all' && iceTransportPolicy !== 'relay') throw new TypeError(`iceTransportPolicy must be 'all' or 'relay', not ${JSON.stringify(iceTransportPolicy)}`);
  const { latency } = options;
  if (latency !== undefined && (!Number.isInteger(latency) || latency < 0)) throw new TypeError('latency must be a non-negative integer (milliseconds)');
  return { bundlePolicy, iceTransportPolicy, latency, iceServers: toWebRtcBinIceServers(options.iceServers) };
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
