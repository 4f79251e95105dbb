import { SafeEmitter, type ListenerErrorEvent } from '../core/safe-emitter.js';
import type { SessionPayload } from './protocol.js';
import type { IceCandidate, SessionDescription } from '../core/types.js';
import type { WebRtcBin } from '../core/webrtcbin.js';

export interface PeerConnectorOptions {
  /** The offerer answers `negotiationneeded` with an offer; the answerer waits for one. */
  role: 'offerer' | 'answerer';
  /** Delivers a message to the remote peer (its PeerConnector.handle, a signalling client, ...). */
  send: (message: SessionPayload) => void;
}

export interface PeerConnectorEvents extends ListenerErrorEvent {
  /** A negotiation step failed (bad remote SDP, a rejected candidate, ...). */
  error: [error: Error];
  /** An offer/answer exchange completed (both descriptions set). */
  negotiated: [];
}

/**
 * Drives one WebRtcBin's offer/answer and trickle ICE over a signalling channel:
 * you give it a `send` function and feed it the remote side's messages with
 * handle(). Messages are processed in order, and remote candidates that arrive
 * before the remote description are held until it is set.
 */
export class PeerConnector extends SafeEmitter<PeerConnectorEvents> {
  private queue: Promise<void> = Promise.resolve();
  private pendingCandidates: IceCandidate[] = [];
  /** Kept here rather than read from webrtcbin for every candidate. */
  private remoteDescriptionSet = false;
  private isClosed = false;
  private readonly onNegotiationNeeded = () => this.enqueue(() => this.offer());
  private readonly onIceCandidate = (candidate: IceCandidate | null) => this.post({ type: 'ice', candidate });

  constructor(
    readonly webrtcbin: WebRtcBin,
    private readonly options: PeerConnectorOptions,
  ) {
    super();
    if (options.role !== 'offerer' && options.role !== 'answerer') throw new TypeError("role must be 'offerer' or 'answerer'");
    if (typeof options.send !== 'function') throw new TypeError('send must be a function');
    if (options.role === 'offerer') webrtcbin.on('negotiationneeded', this.onNegotiationNeeded);
    webrtcbin.on('icecandidate', this.onIceCandidate);
    webrtcbin.once('close', () => this.close());
  }

  /**
   * Connects two WebRtcBins in this process (`a` offers). Resolves after the first
   * negotiation; rejects with the first error of either side.
   */
  static pair(a: WebRtcBin, b: WebRtcBin): Promise<[PeerConnector, PeerConnector]> {
    let offerer!: PeerConnector;
    let answerer!: PeerConnector;
    offerer = new PeerConnector(a, { role: 'offerer', send: (message) => void answerer.handle(message) });
    answerer = new PeerConnector(b, { role: 'answerer', send: (message) => void offerer.handle(message) });
    return new Promise((resolve, reject) => {
      offerer.once('error', reject);
      answerer.once('error', reject);
      offerer.once('negotiated', () => resolve([offerer, answerer]));
    });
  }

  /** Processes a message from the remote peer. Malformed messages surface as `error`. */
  handle(message: SessionPayload): Promise<void> {
    return this.enqueue(async () => {
      if (message?.type === 'sdp') await this.onDescription(message.sdp);
      else if (message?.type === 'ice') await this.onCandidate(message.candidate);
      else throw new TypeError(`unknown signalling message: ${JSON.stringify(message)?.slice(0, 100)}`);
    });
  }

  /** Stops listening to the WebRtcBin. Idempotent; does not close the WebRtcBin. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.webrtcbin.off('negotiationneeded', this.onNegotiationNeeded);
    this.webrtcbin.off('icecandidate', this.onIceCandidate);
    this.pendingCandidates = [];
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(async () => {
      if (this.isClosed || this.webrtcbin.closed) return;
      try {
        await step();
      } catch (error) {
        this.dispatchError('error', error as Error);
      }
    });
    return this.queue;
  }

  private post(message: SessionPayload): void {
    if (!this.isClosed) this.options.send(message);
  }

  private async offer(): Promise<void> {
    if (this.webrtcbin.signalingState !== 'stable') return; // a negotiation is already under way
    const offer = await this.webrtcbin.createOffer();
    await this.webrtcbin.setLocalDescription(offer);
    this.post({ type: 'sdp', sdp: offer });
  }

  private async onDescription(description: SessionDescription): Promise<void> {
    await this.webrtcbin.setRemoteDescription(description);
    this.remoteDescriptionSet = true;
    await this.flushCandidates();
    if (description.type === 'offer') {
      const answer = await this.webrtcbin.createAnswer();
      await this.webrtcbin.setLocalDescription(answer);
      this.post({ type: 'sdp', sdp: answer });
    }
    this.dispatch('negotiated');
  }

  private async onCandidate(candidate: IceCandidate | null): Promise<void> {
    if (!this.remoteDescriptionSet) {
      if (candidate !== null) this.pendingCandidates.push(candidate);
      return;
    }
    await this.webrtcbin.addIceCandidate(candidate);
  }

  private async flushCandidates(): Promise<void> {
    const candidates = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const candidate of candidates) await this.webrtcbin.addIceCandidate(candidate);
  }
}
