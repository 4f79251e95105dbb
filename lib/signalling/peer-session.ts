// Wires one WebRtcBin to one signalling session: a PeerConnector whose messages
// travel over a SignallingClient.
import { PeerConnector } from './peer-connector.js';
import { SafeEmitter, type ListenerErrorEvent } from '../core/safe-emitter.js';
import type { WebRtcBin } from '../core/webrtcbin.js';
import type { ClientSessionEndReason, SessionInfo, SignallingClient } from './client.js';
import type { IceCandidate, SessionDescription, SessionPayload } from './protocol.js';

export interface PeerSessionOptions {
  /**
   * 'offerer' makes the offers (on every `negotiationneeded`); 'answerer' answers
   * the remote peer's offers. Default: 'offerer' for the peer that started the
   * session, 'answerer' for the other.
   */
  role?: 'offerer' | 'answerer';
}

/** Why a PeerSession ended: the server's reason, or `closed` when close() ended it. */
export type PeerSessionEndReason = ClientSessionEndReason | 'closed';

export interface PeerSessionEvents extends ListenerErrorEvent {
  /** A negotiation step failed (a bad remote description, a rejected candidate, a lost connection to the server, ...). */
  error: [error: Error];
  /** An offer/answer exchange completed. */
  negotiated: [];
  /** The session is over; the PeerSession no longer relays anything. Emitted once. */
  ended: [reason: PeerSessionEndReason];
}

/**
 * Connects a WebRtcBin to the remote member of a signalling session: offers or
 * answers, trickles ICE both ways, and stops when the session ends. It does not
 * close the WebRtcBin; do that on `ended`.
 *
 * The offerer offers on every `negotiationneeded`, including one the WebRtcBin
 * asked for before this PeerSession was made (WebRtcBin keeps the request until
 * someone listens).
 *
 * ```ts
 * client.on('session', (session) => {
 *   const webrtcbin = new WebRtcBin();
 *   const peer = new PeerSession(webrtcbin, client, session, { role: 'offerer' });
 *   peer.once('ended', () => webrtcbin.close());
 *   webrtcbin.addTrack('videotestsrc is-live=true ! vp8enc deadline=1 ! rtpvp8pay pt=96');
 * });
 * ```
 */
export class PeerSession extends SafeEmitter<PeerSessionEvents> {
  /** Drives the offer/answer and trickle ICE of the WebRtcBin. */
  readonly connector: PeerConnector;
  /** The signalling session this PeerSession serves. */
  readonly sessionId: string;
  /** The other member of the session. */
  readonly peerId: string;
  /** Whether this side makes the offers. */
  readonly role: 'offerer' | 'answerer';
  private endReason: PeerSessionEndReason | undefined;

  private readonly onWebRtcBinClose = (): void => this.close();

  /**
   * Starts a session with `peerId` and wires `webrtcbin` to it. With no role
   * given, this side is the offerer.
   */
  static async start(webrtcbin: WebRtcBin, client: SignallingClient, peerId: string, options: PeerSessionOptions = {}): Promise<PeerSession> {
    const session = await client.startSession(peerId);
    // Nothing of the session can have arrived yet: the peer learns of it from the same reply.
    return new PeerSession(webrtcbin, client, session, options);
  }

  /**
   * @param webrtcbin the WebRtcBin to connect; exposed as `webrtcbin`.
   * @param client a connected SignallingClient that is a member of the session; exposed as `client`.
   * @param session a session from `client.startSession()` or the client's `session` event.
   * @throws TypeError for an invalid role or session, or a session that already has a PeerSession.
   */
  constructor(
    readonly webrtcbin: WebRtcBin,
    readonly client: SignallingClient,
    session: SessionInfo,
    options: PeerSessionOptions = {},
  ) {
    super();
    if (typeof session !== 'object' || session === null || typeof session.sessionId !== 'string' || typeof session.peerId !== 'string') {
      throw new TypeError('session must be a SessionInfo { sessionId, peerId, initiator }');
    }
    if (options.role !== undefined && options.role !== 'offerer' && options.role !== 'answerer') {
      throw new TypeError("role must be 'offerer' or 'answerer'");
    }
    this.sessionId = session.sessionId;
    this.peerId = session.peerId;
    this.role = options.role ?? (session.initiator ? 'offerer' : 'answerer');
    routerOf(client).add(this);
    try {
      this.connector = new PeerConnector(webrtcbin, { role: this.role, send: (message) => this.relay(message) });
    } catch (error) {
      routerOf(client).remove(this);
      throw error;
    }
    this.connector.on('error', (error) => this.dispatchError('error', error));
    this.connector.on('negotiated', () => this.dispatch('negotiated'));
    webrtcbin.once('close', this.onWebRtcBinClose);
    // The session may have ended while the caller was still setting up.
    if (!client.sessions.some((open) => open.sessionId === this.sessionId)) {
      queueMicrotask(() => this.finish(client.connected ? 'ended' : 'disconnected'));
    }
  }

  /** Whether the session is over (ended by either side, or close() ran). */
  get ended(): boolean {
    return this.endReason !== undefined;
  }

  /**
   * Stops relaying and ends the signalling session if it is still open. Does not
   * close the WebRtcBin. Idempotent.
   */
  close(): void {
    if (this.endReason !== undefined) return;
    const stillOpen = this.client.connected && this.client.sessions.some((open) => open.sessionId === this.sessionId);
    this.finish('closed');
    // Best effort: the server also ends it when either peer disconnects.
    if (stillOpen) this.client.endSession(this.sessionId).catch(() => undefined);
  }

  /** @internal Called by the client's router with this session's messages. */
  receive(message: SessionPayload | { type: 'ended'; reason: ClientSessionEndReason }): void {
    if (message.type === 'ended') this.finish(message.reason);
    else void this.connector.handle(message);
  }

  private relay(message: SessionPayload): void {
    if (this.endReason !== undefined) return;
    try {
      this.client.send(this.sessionId, message);
    } catch (error) {
      this.dispatchError('error', error as Error);
    }
  }

  private finish(reason: PeerSessionEndReason): void {
    if (this.endReason !== undefined) return;
    this.endReason = reason;
    routerOf(this.client).remove(this);
    this.webrtcbin.off('close', this.onWebRtcBinClose);
    this.connector.close();
    this.dispatch('ended', reason);
  }
}

/**
 * Routes one client's session messages to its PeerSessions with one listener per
 * event, however many sessions there are.
 */
class SessionRouter {
  private readonly sessions = new Map<string, PeerSession>();
  private readonly onSdp = (sessionId: string, sdp: SessionDescription): void => this.sessions.get(sessionId)?.receive({ type: 'sdp', sdp });
  private readonly onIce = (sessionId: string, candidate: IceCandidate | null): void => this.sessions.get(sessionId)?.receive({ type: 'ice', candidate });
  private readonly onEnded = (sessionId: string, reason: ClientSessionEndReason): void => this.sessions.get(sessionId)?.receive({ type: 'ended', reason });

  constructor(private readonly client: SignallingClient) {}

  add(session: PeerSession): void {
    if (this.sessions.has(session.sessionId)) throw new TypeError(`session ${session.sessionId} already has a PeerSession`);
    if (this.sessions.size === 0) {
      this.client.on('sdp', this.onSdp);
      this.client.on('ice', this.onIce);
      this.client.on('sessionended', this.onEnded);
    }
    this.sessions.set(session.sessionId, session);
  }

  remove(session: PeerSession): void {
    if (this.sessions.get(session.sessionId) !== session) return;
    this.sessions.delete(session.sessionId);
    if (this.sessions.size === 0) {
      this.client.off('sdp', this.onSdp);
      this.client.off('ice', this.onIce);
      this.client.off('sessionended', this.onEnded);
    }
  }
}

const routers = new WeakMap<SignallingClient, SessionRouter>();

function routerOf(client: SignallingClient): SessionRouter {
  let router = routers.get(client);
  if (router === undefined) {
    router = new SessionRouter(client);
    routers.set(client, router);
  }
  return router;
}
