import { SafeEmitter, type ListenerErrorEvent } from '../core/safe-emitter.js';
import type { IceCandidate, SessionDescription } from '../core/types.js';
import type { WebRtcBin } from '../core/webrtcbin.js';
import type { SessionPayload } from './protocol.js';

/**
 * Who makes offers:
 * - `offerer` answers every `negotiationneeded` with an offer, and never yields
 *   to an offer from the other side that crosses its own;
 * - `answerer` only answers;
 * - `polite` and `impolite` both offer whenever they need to, and settle offers
 *   that cross as the W3C "perfect negotiation" pattern does: the impolite side
 *   ignores the other's offer, the polite side rolls its own back and answers.
 */
export type PeerConnectorRole = 'offerer' | 'answerer' | 'polite' | 'impolite';

export interface PeerConnectorOptions {
  role: PeerConnectorRole;
  /** Delivers a message to the remote peer (its PeerConnector.handle, a signalling client, ...). */
  send: (message: SessionPayload) => void;
}

export interface PeerConnectorEvents extends ListenerErrorEvent {
  /** A negotiation step failed (bad remote SDP, a rejected candidate, ...). */
  error: [error: Error];
  /** An offer/answer exchange completed (both descriptions set). */
  negotiated: [];
}

const ROLES = new Set<PeerConnectorRole>(['offerer', 'answerer', 'polite', 'impolite']);

/**
 * Drives one WebRtcBin's offer/answer and trickle ICE over a signalling channel:
 * you give it a `send` function and feed it the remote side's messages with
 * handle(). It is the browser's "perfect negotiation" pattern, written once:
 * the WebRtcBin's operations chain keeps every step in order, and candidates
 * that some stacks send before their description are held until it arrives.
 */
export class PeerConnector extends SafeEmitter<PeerConnectorEvents> {
  /** True while this side is making an offer (between negotiationneeded and setLocalDescription). */
  private makingOffer = false;
  /** The last remote offer was ignored (impolite side, crossing offers): so are its candidates' failures. */
  private ignoringOffer = false;
  /** A remote answer is being applied: the signaling state is about to be stable again. */
  private settingRemoteAnswer = false;
  /** Remote descriptions handed to the WebRtcBin and not yet applied. */
  private remoteDescriptionsPending = 0;
  /** Candidates that came before any remote description (some stacks send them first): added after the next one. */
  private earlyCandidates: (IceCandidate | null)[] = [];
  private isClosed = false;
  private readonly onNegotiationNeeded = () => void this.offer();
  private readonly onIceCandidate = (candidate: IceCandidate | null) => this.post({ type: 'ice', candidate });

  constructor(
    readonly webrtcbin: WebRtcBin,
    private readonly options: PeerConnectorOptions,
  ) {
    super();
    if (!ROLES.has(options?.role)) throw new TypeError("role must be 'offerer', 'answerer', 'polite' or 'impolite'");
    if (typeof options.send !== 'function') throw new TypeError('send must be a function');
    if (options.role !== 'answerer') webrtcbin.on('negotiationneeded', this.onNegotiationNeeded);
    webrtcbin.on('icecandidate', this.onIceCandidate);
    webrtcbin.once('close', () => this.close());
  }

  /**
   * Connects two WebRtcBins in this process (`a` offers). It resolves as soon as
   * both are wired, so it can be awaited before or after the pipelines play;
   * negotiation starts once there is media with caps to negotiate. Failures are
   * `error` events of the connectors.
   */
  static async pair(a: WebRtcBin, b: WebRtcBin): Promise<[PeerConnector, PeerConnector]> {
    let offerer!: PeerConnector;
    let answerer!: PeerConnector;
    offerer = new PeerConnector(a, { role: 'offerer', send: (message) => void answerer.handle(message) });
    answerer = new PeerConnector(b, { role: 'answerer', send: (message) => void offerer.handle(message) });
    return [offerer, answerer];
  }

  /** Resolves at the next completed offer/answer exchange; rejects with the next error. */
  nextNegotiation(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        this.off('negotiated', onNegotiated);
        this.off('error', onError);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onNegotiated = () => done();
      const onError = (error: Error) => done(error);
      this.on('negotiated', onNegotiated);
      this.on('error', onError);
    });
  }

  /** Processes a message from the remote peer. Failures surface as `error` (and the returned promise still resolves). */
  async handle(message: SessionPayload): Promise<void> {
    if (this.isClosed || this.webrtcbin.closed) return;
    try {
      if (message?.type === 'sdp') await this.onDescription(message.sdp);
      else if (message?.type === 'ice') await this.onCandidate(message.candidate);
      else throw new TypeError(`unknown signalling message: ${JSON.stringify(message)?.slice(0, 100)}`);
    } catch (error) {
      if (!this.isClosed && !this.webrtcbin.closed) this.dispatchError('error', error as Error);
    }
  }

  /** Stops listening to the WebRtcBin. Idempotent; does not close the WebRtcBin. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.webrtcbin.off('negotiationneeded', this.onNegotiationNeeded);
    this.webrtcbin.off('icecandidate', this.onIceCandidate);
    this.earlyCandidates = [];
  }

  private post(message: SessionPayload): void {
    if (!this.isClosed) this.options.send(message);
  }

  private get polite(): boolean {
    return this.options.role === 'polite' || this.options.role === 'answerer';
  }

  private async offer(): Promise<void> {
    try {
      this.makingOffer = true;
      await this.webrtcbin.setLocalDescription();
      const offer = this.webrtcbin.localDescription;
      if (offer?.type === 'offer') this.post({ type: 'sdp', sdp: offer });
    } catch (error) {
      if (!this.isClosed && !this.webrtcbin.closed) this.dispatchError('error', error as Error);
    } finally {
      this.makingOffer = false;
    }
  }

  private async onDescription(description: SessionDescription): Promise<void> {
    const readyForOffer = !this.makingOffer && (this.webrtcbin.signalingState === 'stable' || this.settingRemoteAnswer);
    const collision = description?.type === 'offer' && !readyForOffer;
    this.ignoringOffer = !this.polite && collision;
    if (this.ignoringOffer) return;
    // A polite side's pending offer is rolled back by setRemoteDescription itself.
    this.settingRemoteAnswer = description?.type === 'answer';
    this.remoteDescriptionsPending++;
    try {
      await this.webrtcbin.setRemoteDescription(description);
    } finally {
      this.settingRemoteAnswer = false;
      this.remoteDescriptionsPending--;
    }
    const early = this.earlyCandidates.splice(0);
    for (const candidate of early) await this.webrtcbin.addIceCandidate(candidate);
    if (description.type === 'offer') {
      await this.webrtcbin.setLocalDescription();
      const answer = this.webrtcbin.localDescription;
      if (answer !== null) this.post({ type: 'sdp', sdp: answer });
    }
    this.dispatch('negotiated');
  }

  private async onCandidate(candidate: IceCandidate | null): Promise<void> {
    if (this.webrtcbin.remoteDescription === null && this.remoteDescriptionsPending === 0 && !this.ignoringOffer) {
      this.earlyCandidates.push(candidate);
      return;
    }
    try {
      await this.webrtcbin.addIceCandidate(candidate);
    } catch (error) {
      if (!this.ignoringOffer) throw error;
    }
  }
}
