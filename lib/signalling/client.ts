// Node-side client for the JSON signalling protocol served by SignallingServer.

import { EventEmitter } from 'node:events';
import { WebSocket, type RawData } from 'ws';
import {
  parseServerMessage,
  parseSessionPayload,
  type ClientMessage,
  type ErrorCode,
  type IceCandidate,
  type PeerInfo,
  type PeerMeta,
  type RequestId,
  type ServerLimits,
  type ServerMessage,
  type ServerMessageType,
  type SessionDescription,
  type SessionEndReason,
  type SessionPayload,
} from './protocol.js';

export interface SignallingClientConnectOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  role?: string;
  name?: string;
  /** Peers only see and reach peers in the same room. Default: the lobby (''). */
  room?: string;
  /** Small public JSON object other peers see in peer lists. */
  meta?: PeerMeta;
  /** Limit for the WebSocket handshake and for each request's reply. Default 10 s. */
  timeoutMs?: number;
  /** Extra HTTP headers for the upgrade request. */
  headers?: Record<string, string>;
  /** Trusted CA(s) for wss:// with a private certificate. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Largest accepted message from the server. Default 8 MiB. */
  maxMessageBytes?: number;
}

export interface SessionInfo {
  sessionId: string;
  /** The other member of the session. */
  peerId: string;
  /** True for the peer that called startSession(). */
  initiator: boolean;
}

/** `disconnected`: our own connection closed while the session was open. */
export type ClientSessionEndReason = SessionEndReason | 'disconnected';

export interface SignallingClientEvents {
  /** Reply to listPeers(). */
  peers: [peers: PeerInfo[]];
  peerjoined: [peer: PeerInfo];
  peerleft: [peerId: string];
  /** Another peer started a session with us. */
  session: [session: SessionInfo];
  sdp: [sessionId: string, description: SessionDescription, from: string];
  /** `candidate` is null at the end of candidates. */
  ice: [sessionId: string, candidate: IceCandidate | null, from: string];
  sessionended: [sessionId: string, reason: ClientSessionEndReason];
  close: [code: number, reason: string];
  /** Server-reported errors not tied to a pending request, and socket errors. Only emitted when a listener is attached. */
  error: [error: SignallingError];
}

export type SignallingClientErrorCode =
  | ErrorCode
  | 'timeout'
  | 'not-connected'
  | 'connection-closed'
  | 'handshake-failed'
  | 'bad-server-message'
  | 'socket-error';

export class SignallingError extends Error {
  readonly code: SignallingClientErrorCode;
  /** The request type the server rejected, when known. */
  readonly requestType?: string;
  /** HTTP status of a refused upgrade (401 bad token, 503 server full, ...). */
  readonly statusCode?: number;

  constructor(
    code: SignallingClientErrorCode,
    message: string,
    details: { requestType?: string; statusCode?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SignallingError';
    this.code = code;
    if (details.requestType !== undefined) this.requestType = details.requestType;
    if (details.statusCode !== undefined) this.statusCode = details.statusCode;
  }
}

interface PendingRequest {
  expect: ServerMessageType;
  resolve: (message: ServerMessage) => void;
  reject: (error: SignallingError) => void;
  timer: NodeJS.Timeout;
}

type ReplyTo<K extends ServerMessageType> = Extract<ServerMessage, { type: K }>;

const CLOSE_GRACE_MS = 2000;

export class SignallingClient extends EventEmitter<SignallingClientEvents> {
  private ws: WebSocket | undefined;
  private registered = false;
  private assignedId: string | undefined;
  private serverLimits: ServerLimits | undefined;
  private timeoutMs = 10_000;
  private requestCounter = 0;
  private readonly pending = new Map<RequestId, PendingRequest>();
  private readonly openSessions = new Map<string, SessionInfo>();
  private closePromise: Promise<void> | undefined;

  /** Our server-assigned id, once connect() resolved. */
  get peerId(): string | undefined {
    return this.assignedId;
  }

  /** Limits the server announced in its welcome. */
  get limits(): ServerLimits | undefined {
    return this.serverLimits;
  }

  /** Sessions we are currently a member of. */
  get sessions(): SessionInfo[] {
    return [...this.openSessions.values()];
  }

  get connected(): boolean {
    return this.registered && this.ws?.readyState === WebSocket.OPEN;
  }

  /** Connects, announces role/room/meta, and resolves with the server-assigned peer id. */
  async connect(url: string, options: SignallingClientConnectOptions = {}): Promise<string> {
    if (this.ws || this.closePromise) {
      throw new SignallingError('not-connected', 'connect() may only be called once per SignallingClient');
    }
    this.timeoutMs = options.timeoutMs ?? 10_000;
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
    const ws = new WebSocket(url, {
      headers,
      handshakeTimeout: this.timeoutMs,
      maxPayload: options.maxMessageBytes ?? 8 * 1024 * 1024,
      perMessageDeflate: false,
      // One message per task, as a browser's WebSocket delivers them: a message read in the same
      // packet as the welcome (a peer starting a session at once) must not be emitted before
      // the caller's `await connect()` has resumed and attached its listeners.
      allowSynchronousEvents: false,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    });
    this.ws = ws;
    this.attach(ws);
    const hello: ClientMessage = { type: 'hello' };
    if (options.role !== undefined) hello.role = options.role;
    if (options.name !== undefined) hello.name = options.name;
    if (options.room !== undefined) hello.room = options.room;
    if (options.meta !== undefined) hello.meta = options.meta;
    let welcome: ReplyTo<'welcome'>;
    try {
      await this.waitForOpen(ws);
      welcome = await this.request(hello, 'welcome');
    } catch (err) {
      // e.g. the server rejected our hello: do not leave a half-registered connection open.
      await this.close();
      throw err;
    }
    this.assignedId = welcome.peerId;
    this.serverLimits = welcome.limits;
    this.registered = true;
    return welcome.peerId;
  }

  /** Peers in our room, excluding ourselves. Also emitted as 'peers'. */
  async listPeers(): Promise<PeerInfo[]> {
    const reply = await this.request({ type: 'list' }, 'peers');
    return reply.peers;
  }

  /** Starts a session with another peer; it receives a 'session' event. */
  async startSession(peerId: string): Promise<SessionInfo> {
    const reply = await this.request({ type: 'session-start', peerId }, 'session-started');
    return this.openSessions.get(reply.sessionId) ?? { sessionId: reply.sessionId, peerId: reply.peerId, initiator: true };
  }

  async endSession(sessionId: string): Promise<void> {
    await this.request({ type: 'session-end', sessionId }, 'session-ended');
  }

  /** Relays SDP or ICE to the other member of a session. Server-side rejections arrive as 'error'. */
  send(sessionId: string, payload: SessionPayload): void {
    let checked: SessionPayload;
    try {
      checked = parseSessionPayload(payload);
    } catch (err) {
      throw new TypeError(`invalid session payload: ${(err as Error).message}`);
    }
    this.transmit({ type: 'session-message', sessionId, payload: checked });
  }

  sendSdp(sessionId: string, description: SessionDescription): void {
    this.send(sessionId, { type: 'sdp', sdp: description });
  }

  sendIce(sessionId: string, candidate: IceCandidate | null): void {
    this.send(sessionId, { type: 'ice', candidate });
  }

  /** Closes the connection; resolves once it is closed. Safe to call repeatedly. */
  close(): Promise<void> {
    this.closePromise ??= new Promise<void>((resolve) => {
      const ws = this.ws;
      if (!ws || ws.readyState === WebSocket.CLOSED) {
        resolve();
        return;
      }
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.CONNECTING) {
        ws.terminate();
        return;
      }
      ws.close(1000, 'client closing');
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
    });
    return this.closePromise;
  }

  // ---- internals ----

  private attach(ws: WebSocket): void {
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('error', (err) => {
      if (this.registered) this.emitError(new SignallingError('socket-error', err.message, { cause: err }));
    });
    ws.on('close', (code, reason) => this.onClose(code, reason.toString()));
  }

  private waitForOpen(ws: WebSocket): Promise<void> {
    return new Promise((resolve, reject) => {
      let refusedStatus: number | undefined;
      const cleanup = (): void => {
        ws.off('open', onOpen);
        ws.off('error', onError);
        ws.off('unexpected-response', onUnexpectedResponse);
      };
      const onOpen = (): void => {
        cleanup();
        resolve();
      };
      const onError = (err: Error): void => {
        cleanup();
        const message =
          refusedStatus === undefined ? err.message : `server refused the connection (HTTP ${refusedStatus})`;
        reject(new SignallingError('handshake-failed', message, { cause: err, statusCode: refusedStatus }));
      };
      const onUnexpectedResponse = (_req: unknown, res: { statusCode?: number; resume(): void }): void => {
        refusedStatus = res.statusCode;
        res.resume();
        ws.terminate();
      };
      ws.on('open', onOpen);
      ws.on('error', onError);
      ws.on('unexpected-response', onUnexpectedResponse);
    });
  }

  private transmit(message: ClientMessage): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) throw new SignallingError('not-connected', 'not connected');
    ws.send(JSON.stringify(message));
  }

  private request<K extends ServerMessageType>(message: ClientMessage, expect: K): Promise<ReplyTo<K>> {
    return new Promise((resolve, reject) => {
      const requestId = `r${++this.requestCounter}`;
      try {
        this.transmit({ ...message, requestId });
      } catch (err) {
        reject(err);
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new SignallingError('timeout', `no "${expect}" reply to "${message.type}" within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(requestId, {
        expect,
        resolve: (reply) => resolve(reply as ReplyTo<K>),
        reject,
        timer,
      });
    });
  }

  /** Resolves the pending request this message answers, if any. */
  private settle(message: ServerMessage): boolean {
    if (!('requestId' in message) || message.requestId === undefined) return false;
    const pending = this.pending.get(message.requestId);
    if (!pending) return false;
    if (message.type !== pending.expect && message.type !== 'error') return false;
    this.pending.delete(message.requestId);
    clearTimeout(pending.timer);
    if (message.type === 'error') {
      pending.reject(new SignallingError(message.code, message.message, { requestType: message.requestType }));
    } else {
      pending.resolve(message);
    }
    return true;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.emitError(new SignallingError('bad-server-message', 'unexpected binary message from server'));
      return;
    }
    const parsed = parseServerMessage(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
    if (!parsed.ok) {
      this.emitError(new SignallingError('bad-server-message', parsed.error.message));
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case 'welcome':
        this.settle(message);
        return;
      case 'peers':
        this.settle(message);
        this.emit('peers', message.peers);
        return;
      case 'peer-joined':
        this.emit('peerjoined', message.peer);
        return;
      case 'peer-left':
        this.emit('peerleft', message.peerId);
        return;
      case 'session-started': {
        const session: SessionInfo = { sessionId: message.sessionId, peerId: message.peerId, initiator: message.initiator };
        this.openSessions.set(session.sessionId, session);
        this.settle(message);
        if (!session.initiator) this.emit('session', session);
        return;
      }
      case 'session-message':
        if (message.payload.type === 'sdp') {
          this.emit('sdp', message.sessionId, message.payload.sdp, message.from);
        } else {
          this.emit('ice', message.sessionId, message.payload.candidate, message.from);
        }
        return;
      case 'session-ended':
        this.openSessions.delete(message.sessionId);
        this.settle(message);
        this.emit('sessionended', message.sessionId, message.reason);
        return;
      case 'error':
        if (!this.settle(message)) {
          this.emitError(new SignallingError(message.code, message.message, { requestType: message.requestType }));
        }
        return;
    }
  }

  private onClose(code: number, reason: string): void {
    this.registered = false;
    for (const [requestId, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new SignallingError('connection-closed', `connection closed (${code}${reason ? ` ${reason}` : ''})`));
      this.pending.delete(requestId);
    }
    const sessions = [...this.openSessions.keys()];
    this.openSessions.clear();
    for (const sessionId of sessions) this.emit('sessionended', sessionId, 'disconnected');
    this.emit('close', code, reason);
  }

  private emitError(error: SignallingError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}
