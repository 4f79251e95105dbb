// WebSocket signalling server: assigns peer ids, lists peers, pairs them into
// sessions and relays validated SDP/ICE between the two members of a session.
// Also speaks the gst-examples text protocol (see gst-examples-protocol.ts).

import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { TokenBucket } from './rate-limit.js';
import { clientAddress, presentedToken, rejectUpgrade, sameSecret } from './upgrade.js';
import { GstExamplesRouter, isGstExamplesHello, type GstExamplesSession } from './gst-examples-protocol.js';
import {
  PROTOCOL_VERSION,
  parseClientMessage,
  type ClientMessage,
  type ErrorCode,
  type HelloRequest,
  type PeerInfo,
  type PeerMeta,
  type RateLimit,
  type RequestId,
  type ServerLimits,
  type ServerMessage,
  type SessionEndReason,
} from './protocol.js';

export interface SignallingServerOptions {
  /** Attach to an existing HTTP(S) server instead of creating one. */
  server?: http.Server | https.Server;
  /** Port for the server we create (or for `server` if it is not listening yet). Default 0. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Only accept WebSocket upgrades on this path (e.g. '/signalling'). Default: any path. */
  path?: string;
  /** Required token, given as `?token=` or `Authorization: Bearer <token>`; or a validator. */
  token?: string | ((token: string, req: http.IncomingMessage) => boolean);
  /** Largest accepted message; bigger ones close the connection with 1009. Default 64 KiB. */
  maxMessageBytes?: number;
  /** Token bucket per connection; exceeding it closes the connection with 1008. `false` disables. Default 100 per 1 s. */
  rateLimit?: RateLimit | false;
  /** Ping interval; a peer that has not answered the previous ping is dropped. 0 disables. Default 30 s. */
  heartbeatMs?: number;
  /** Most simultaneous connections; further upgrades get HTTP 503. Default 1000. */
  maxPeers?: number;
  /** Serve wss:// from a server we create. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Most sessions a JSON peer may be a member of at once. Default 16. */
  maxSessionsPerPeer?: number;
  /** A peer whose unsent data exceeds this (it is not reading) is dropped. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** A connection must send its first message within this time. 0 disables. Default 10 s. */
  helloTimeoutMs?: number;
  /**
   * Most simultaneous connections from one client address; further upgrades from
   * it get HTTP 429, so one address cannot take all of `maxPeers`. Default 200.
   */
  maxConnectionsPerAddress?: number;
  /**
   * Most connections from one client address that are idle: not yet registered,
   * or registered and in no session. Further upgrades from it get HTTP 429.
   * Default 100.
   */
  maxIdlePeersPerAddress?: number;
  /**
   * Take the client's address from `X-Forwarded-For` (the last entry, the one
   * the proxy in front of this server added). Only behind a proxy you run: a
   * client can send that header itself. Default false: the socket's address.
   */
  trustForwardedFor?: boolean;
}

export interface ListeningAddress {
  address: string;
  family: string;
  port: number;
  url: string;
}

export type PeerProtocol = 'json' | 'gst-examples';

export type PeerLeftReason =
  | 'disconnected'
  | 'heartbeat-timeout'
  | 'rate-limited'
  | 'message-too-large'
  | 'send-buffer-full'
  | 'protocol-error'
  | 'session-ended'
  | 'server-closed';

export interface PeerJoinedEvent {
  peerId: string;
  protocol: PeerProtocol;
  remoteAddress?: string;
  room?: string;
  role?: string;
  name?: string;
}

export interface PeerLeftEvent {
  peerId: string;
  protocol: PeerProtocol;
  reason: PeerLeftReason;
}

export interface SessionEvent {
  sessionId: string;
  initiator: string;
  responder: string;
  protocol: PeerProtocol;
}

export interface SessionEndedEvent extends SessionEvent {
  reason: SessionEndReason | 'server-closed';
  /** The peer that ended the session or left. */
  by: string;
}

export interface SignallingServerEvents {
  peerjoined: [event: PeerJoinedEvent];
  peerleft: [event: PeerLeftEvent];
  sessionstarted: [event: SessionEvent];
  sessionended: [event: SessionEndedEvent];
  /** Errors of the underlying HTTP server. Only emitted when a listener is attached. */
  error: [error: Error];
}

const DEFAULT_RATE_LIMIT: RateLimit = { messages: 100, perSeconds: 1 };
const CLOSE_GRACE_MS = 1000;

const CLOSE_NORMAL = 1000;
const CLOSE_GOING_AWAY = 1001;
const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_POLICY_VIOLATION = 1008;

interface PeerProfile {
  room: string;
  role?: string;
  name?: string;
  meta?: PeerMeta;
}

interface Connection {
  readonly ws: WebSocket;
  readonly remoteAddress: string | undefined;
  readonly bucket: TokenBucket | undefined;
  readonly sessions: Set<string>;
  /** Empty until the connection has registered (first message). */
  id: string;
  mode: 'pending' | PeerProtocol;
  profile: PeerProfile;
  alive: boolean;
  /** Set once the server has decided to drop the connection. */
  dropReason?: PeerLeftReason;
  helloTimer?: NodeJS.Timeout;
  killTimer?: NodeJS.Timeout;
}

interface JsonSession {
  sessionId: string;
  initiator: string;
  responder: string;
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function positiveLimit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

function formatHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

export class SignallingServer extends EventEmitter<SignallingServerEvents> {
  private readonly options: SignallingServerOptions;
  private readonly maxMessageBytes: number;
  private readonly rateLimit: RateLimit | null;
  private readonly heartbeatMs: number;
  private readonly maxPeers: number;
  private readonly maxSessionsPerPeer: number;
  private readonly maxBufferedBytes: number;
  private readonly helloTimeoutMs: number;
  private readonly maxConnectionsPerAddress: number;
  private readonly maxIdlePeersPerAddress: number;
  /** Open connections by client address, for the per-address limits. */
  private readonly connectionsByAddress = new Map<string, Set<Connection>>();
  private readonly wss: WebSocketServer;
  private readonly gst: GstExamplesRouter;

  private readonly connections = new Set<Connection>();
  private readonly peersById = new Map<string, Connection>();
  private readonly sessions = new Map<string, JsonSession>();

  private httpServer: http.Server | https.Server | undefined;
  private ownsHttpServer = false;
  private listenPromise: Promise<ListeningAddress> | undefined;
  private boundAddress: ListeningAddress | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private closePromise: Promise<void> | undefined;
  private closing = false;

  constructor(options: SignallingServerOptions = {}) {
    super();
    if (options.server && options.tls) throw new TypeError('pass either "server" or "tls", not both');
    if (options.rateLimit && !(options.rateLimit.messages >= 1 && options.rateLimit.perSeconds > 0)) {
      throw new RangeError('rateLimit needs messages >= 1 and perSeconds > 0');
    }
    this.options = options;
    this.maxMessageBytes = options.maxMessageBytes ?? 64 * 1024;
    this.rateLimit = options.rateLimit === false ? null : (options.rateLimit ?? DEFAULT_RATE_LIMIT);
    this.heartbeatMs = options.heartbeatMs ?? 30_000;
    this.maxPeers = options.maxPeers ?? 1000;
    this.maxSessionsPerPeer = options.maxSessionsPerPeer ?? 16;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.helloTimeoutMs = options.helloTimeoutMs ?? 10_000;
    this.maxConnectionsPerAddress = positiveLimit(options.maxConnectionsPerAddress, 200, 'maxConnectionsPerAddress');
    this.maxIdlePeersPerAddress = positiveLimit(options.maxIdlePeersPerAddress, 100, 'maxIdlePeersPerAddress');
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: this.maxMessageBytes,
      perMessageDeflate: false,
    });
    this.gst = new GstExamplesRouter({
      isIdAvailable: (uid) => !this.peersById.has(uid),
      newSessionId: () => this.newSessionId(),
      sessionStarted: (session) => this.emit('sessionstarted', { ...session, protocol: 'gst-examples' }),
      sessionEnded: (session, leftPeer) => this.emitGstSessionEnded(session, leftPeer),
    });
  }

  /** Ids of all registered peers (both protocols). */
  get peers(): string[] {
    return [...this.peersById.keys()];
  }

  /** ws:// or wss:// URL clients should connect to. Throws before listen() resolved. */
  get url(): string {
    if (!this.boundAddress) throw new Error('SignallingServer is not listening');
    return this.boundAddress.url;
  }

  /** Starts accepting connections; resolves with the bound address (port 0 picks a free port). */
  listen(): Promise<ListeningAddress> {
    if (this.closing) return Promise.reject(new Error('SignallingServer is closed'));
    this.listenPromise ??= this.startListening().catch((err: unknown) => {
      this.listenPromise = undefined;
      throw err;
    });
    return this.listenPromise;
  }

  /** Closes every connection and, if we created it, the HTTP server. Safe to call repeatedly. */
  close(): Promise<void> {
    this.closePromise ??= this.shutdown();
    return this.closePromise;
  }

  // ---- HTTP / upgrade ----

  private async startListening(): Promise<ListeningAddress> {
    const server = this.options.server ?? this.createHttpServer();
    this.httpServer = server;
    server.on('upgrade', this.onUpgrade);
    try {
      if (!server.listening) await this.listenOn(server);
    } catch (err) {
      server.off('upgrade', this.onUpgrade);
      throw err;
    }
    server.on('error', this.onServerError);
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('SignallingServer needs a TCP address');
    const scheme = server instanceof https.Server ? 'wss' : 'ws';
    this.boundAddress = {
      address: address.address,
      family: address.family,
      port: address.port,
      url: `${scheme}://${formatHost(address.address)}:${address.port}${this.options.path ?? '/'}`,
    };
    this.startHeartbeat();
    return this.boundAddress;
  }

  private createHttpServer(): http.Server | https.Server {
    this.ownsHttpServer = true;
    const refusePlainHttp = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
      res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'close' });
      res.end('This is a WebSocket signalling endpoint.\n');
    };
    const { tls } = this.options;
    return tls ? https.createServer({ cert: tls.cert, key: tls.key }, refusePlainHttp) : http.createServer(refusePlainHttp);
  }

  private listenOn(server: http.Server | https.Server): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        server.off('listening', onListening);
        reject(err);
      };
      const onListening = (): void => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1');
    });
  }

  private readonly onServerError = (err: Error): void => {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  };

  private readonly onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const pathname = (req.url ?? '/').split('?')[0];
    if (this.options.path !== undefined && pathname !== this.options.path) {
      // On a shared server another handler may own this path.
      if (this.ownsHttpServer) rejectUpgrade(socket, 404);
      return;
    }
    if (this.closing) return rejectUpgrade(socket, 503);
    if (!this.isAuthorized(req)) return rejectUpgrade(socket, 401);
    const address = clientAddress(req, this.options.trustForwardedFor === true);
    if (this.overAddressLimits(address)) return rejectUpgrade(socket, 429);
    if (this.connections.size >= this.maxPeers) return rejectUpgrade(socket, 503);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, address));
  };

  /** Whether one more connection from `address` would pass a per-address limit. */
  private overAddressLimits(address: string | undefined): boolean {
    const fromAddress = address === undefined ? undefined : this.connectionsByAddress.get(address);
    if (fromAddress === undefined) return false;
    if (fromAddress.size >= this.maxConnectionsPerAddress) return true;
    let idle = 0;
    for (const conn of fromAddress) if (conn.mode === 'pending' || (conn.mode === 'json' && conn.sessions.size === 0)) idle++;
    return idle >= this.maxIdlePeersPerAddress;
  }

  private isAuthorized(req: http.IncomingMessage): boolean {
    const expected = this.options.token;
    if (expected === undefined) return true;
    const token = presentedToken(req);
    if (!token) return false;
    if (typeof expected === 'string') return sameSecret(token, expected);
    try {
      return expected(token, req) === true;
    } catch {
      return false;
    }
  }

  // ---- connection lifecycle ----

  private onConnection(ws: WebSocket, address: string | undefined): void {
    const conn: Connection = {
      ws,
      remoteAddress: address,
      bucket: this.rateLimit ? new TokenBucket(this.rateLimit.messages, this.rateLimit.perSeconds) : undefined,
      sessions: new Set(),
      id: '',
      mode: 'pending',
      profile: { room: '' },
      alive: true,
    };
    this.connections.add(conn);
    if (address !== undefined) {
      const fromAddress = this.connectionsByAddress.get(address) ?? new Set<Connection>();
      fromAddress.add(conn);
      this.connectionsByAddress.set(address, fromAddress);
    }
    ws.on('message', (data, isBinary) => this.onMessage(conn, data, isBinary));
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // ws has already started closing (e.g. 1009 for an oversize message).
      conn.dropReason ??= err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'message-too-large' : 'protocol-error';
      this.terminateLater(conn);
    });
    ws.on('close', () => this.onClose(conn));
    if (this.helloTimeoutMs > 0) {
      conn.helloTimer = setTimeout(
        () => this.drop(conn, CLOSE_POLICY_VIOLATION, 'no message before hello timeout', 'protocol-error'),
        this.helloTimeoutMs,
      );
      conn.helloTimer.unref();
    }
  }

  private onClose(conn: Connection): void {
    clearTimeout(conn.helloTimer);
    clearTimeout(conn.killTimer);
    this.connections.delete(conn);
    const fromAddress = conn.remoteAddress === undefined ? undefined : this.connectionsByAddress.get(conn.remoteAddress);
    fromAddress?.delete(conn);
    if (fromAddress?.size === 0) this.connectionsByAddress.delete(conn.remoteAddress as string);
    if (conn.mode === 'pending') return;
    const reason = conn.dropReason ?? 'disconnected';
    this.peersById.delete(conn.id);
    if (conn.mode === 'gst-examples') {
      this.gst.remove(conn.id);
    } else {
      for (const sessionId of [...conn.sessions]) {
        this.endSession(sessionId, this.closing ? 'server-closed' : 'peer-left', conn.id);
      }
      this.broadcastToRoom(conn.profile.room, { type: 'peer-left', peerId: conn.id }, conn);
    }
    this.emit('peerleft', { peerId: conn.id, protocol: conn.mode, reason });
  }

  /** Closes a connection on the server's initiative; `hard` skips the close handshake. */
  private drop(conn: Connection, code: number, reason: string, leftReason: PeerLeftReason, hard = false): void {
    if (conn.dropReason) return;
    conn.dropReason = leftReason;
    if (hard) {
      conn.ws.terminate();
      return;
    }
    conn.ws.close(code, reason);
    this.terminateLater(conn);
  }

  /** Bounds the close handshake: a peer that never answers it is cut off. */
  private terminateLater(conn: Connection): void {
    if (conn.killTimer) return;
    conn.killTimer = setTimeout(() => conn.ws.terminate(), CLOSE_GRACE_MS);
    conn.killTimer.unref();
  }

  private startHeartbeat(): void {
    if (this.heartbeatMs <= 0) return;
    this.heartbeatTimer = setInterval(() => {
      for (const conn of this.connections) {
        if (!conn.alive) {
          this.drop(conn, CLOSE_GOING_AWAY, 'heartbeat timeout', 'heartbeat-timeout', true);
          continue;
        }
        conn.alive = false;
        if (conn.ws.readyState === WebSocket.OPEN) conn.ws.ping();
      }
    }, this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    await this.listenPromise?.catch(() => undefined);
    clearInterval(this.heartbeatTimer);
    this.httpServer?.off('upgrade', this.onUpgrade);
    const allClosed = [...this.connections].map((conn) => new Promise((resolve) => conn.ws.once('close', resolve)));
    for (const conn of this.connections) this.drop(conn, CLOSE_GOING_AWAY, 'server shutting down', 'server-closed');
    await Promise.all(allClosed);
    this.wss.close();
    const server = this.httpServer;
    if (server) server.off('error', this.onServerError);
    if (server && this.ownsHttpServer && server.listening) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  // ---- sending ----

  private sendText(conn: Connection, text: string): void {
    if (conn.ws.readyState !== WebSocket.OPEN || conn.dropReason) return;
    // A peer that stops reading must not make us buffer without bound.
    if (conn.ws.bufferedAmount > this.maxBufferedBytes) {
      this.drop(conn, CLOSE_POLICY_VIOLATION, 'send buffer full', 'send-buffer-full', true);
      return;
    }
    conn.ws.send(text);
  }

  private sendJson(conn: Connection, message: ServerMessage): void {
    this.sendText(conn, JSON.stringify(message));
  }

  private sendError(
    conn: Connection,
    code: ErrorCode,
    message: string,
    request?: { type: string; requestId?: RequestId },
  ): void {
    const error: ServerMessage = { type: 'error', code, message };
    if (request) error.requestType = request.type;
    if (request?.requestId !== undefined) error.requestId = request.requestId;
    this.sendJson(conn, error);
  }

  private broadcastToRoom(room: string, message: ServerMessage, except: Connection): void {
    const text = JSON.stringify(message);
    for (const peer of this.peersById.values()) {
      if (peer !== except && peer.mode === 'json' && peer.profile.room === room) this.sendText(peer, text);
    }
  }

  // ---- receiving ----

  private onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    if (conn.dropReason || conn.ws.readyState !== WebSocket.OPEN) return;
    if (conn.bucket && !conn.bucket.take()) {
      if (conn.mode === 'json') this.sendError(conn, 'rate-limited', 'too many messages; closing the connection');
      if (conn.mode === 'gst-examples') this.sendText(conn, 'ERROR rate limit exceeded');
      this.drop(conn, CLOSE_POLICY_VIOLATION, 'rate limit exceeded', 'rate-limited');
      return;
    }
    clearTimeout(conn.helloTimer);
    if (isBinary) {
      if (conn.mode === 'pending') {
        this.drop(conn, CLOSE_UNSUPPORTED_DATA, 'binary messages are not supported', 'protocol-error');
      } else if (conn.mode === 'json') {
        this.sendError(conn, 'unsupported-binary', 'binary messages are not supported; send JSON text');
      } else {
        this.sendText(conn, 'ERROR binary messages are not supported');
      }
      return;
    }
    const text = rawToString(data);
    if (conn.mode === 'pending' && isGstExamplesHello(text)) {
      this.registerGstPeer(conn, text);
    } else if (conn.mode === 'gst-examples') {
      this.gst.handle(conn.id, text);
    } else {
      this.handleJson(conn, text);
    }
  }

  private registerGstPeer(conn: Connection, helloText: string): void {
    const uid = this.gst.register(
      {
        send: (text) => this.sendText(conn, text),
        close: (code, reason) =>
          this.drop(conn, code, reason, code === CLOSE_NORMAL ? 'session-ended' : 'protocol-error'),
      },
      helloText,
    );
    if (uid === undefined) return;
    conn.mode = 'gst-examples';
    conn.id = uid;
    this.peersById.set(uid, conn);
    this.emit('peerjoined', { peerId: uid, protocol: 'gst-examples', remoteAddress: conn.remoteAddress });
  }

  private handleJson(conn: Connection, text: string): void {
    const parsed = parseClientMessage(text);
    if (conn.mode === 'pending') {
      // The first JSON message registers the peer, whatever it is.
      const hello = parsed.ok && parsed.message.type === 'hello' ? parsed.message : undefined;
      this.registerJsonPeer(conn, hello);
      if (hello) return;
    }
    if (!parsed.ok) {
      this.sendJson(conn, { type: 'error', ...parsed.error });
      return;
    }
    this.dispatch(conn, parsed.message);
  }

  private registerJsonPeer(conn: Connection, hello: HelloRequest | undefined): void {
    conn.mode = 'json';
    conn.id = this.newPeerId();
    conn.profile = { room: hello?.room ?? '', role: hello?.role, name: hello?.name, meta: hello?.meta };
    this.peersById.set(conn.id, conn);
    const welcome: ServerMessage = {
      type: 'welcome',
      protocolVersion: PROTOCOL_VERSION,
      peerId: conn.id,
      room: conn.profile.room,
      limits: this.limits(),
    };
    if (hello?.requestId !== undefined) welcome.requestId = hello.requestId;
    if (hello?.role !== undefined) welcome.role = hello.role;
    if (hello?.name !== undefined) welcome.name = hello.name;
    this.sendJson(conn, welcome);
    this.broadcastToRoom(conn.profile.room, { type: 'peer-joined', peer: this.peerInfo(conn) }, conn);
    const event: PeerJoinedEvent = { peerId: conn.id, protocol: 'json', room: conn.profile.room };
    if (conn.remoteAddress !== undefined) event.remoteAddress = conn.remoteAddress;
    if (hello?.role !== undefined) event.role = hello.role;
    if (hello?.name !== undefined) event.name = hello.name;
    this.emit('peerjoined', event);
  }

  private dispatch(conn: Connection, message: ClientMessage): void {
    switch (message.type) {
      case 'hello':
        this.sendError(conn, 'already-registered', 'hello is only accepted as the first message', message);
        return;
      case 'list': {
        const peers = [...this.peersById.values()]
          .filter((peer) => peer !== conn && peer.mode === 'json' && peer.profile.room === conn.profile.room)
          .map((peer) => this.peerInfo(peer));
        const reply: ServerMessage = { type: 'peers', peers };
        if (message.requestId !== undefined) reply.requestId = message.requestId;
        this.sendJson(conn, reply);
        return;
      }
      case 'session-start':
        this.startSession(conn, message.peerId, message.requestId);
        return;
      case 'session-message': {
        const session = this.sessionOf(conn, message.sessionId, message);
        if (!session) return;
        const otherId = session.initiator === conn.id ? session.responder : session.initiator;
        const other = this.peersById.get(otherId);
        if (other) {
          this.sendJson(other, { type: 'session-message', sessionId: session.sessionId, from: conn.id, payload: message.payload });
        }
        return;
      }
      case 'session-end': {
        const session = this.sessionOf(conn, message.sessionId, message);
        if (session) this.endSession(session.sessionId, 'ended', conn.id, message.requestId);
        return;
      }
    }
  }

  // ---- JSON sessions ----

  private startSession(conn: Connection, targetId: string, requestId: RequestId | undefined): void {
    const request = { type: 'session-start', requestId };
    const target = this.peersById.get(targetId);
    if (target === conn) {
      this.sendError(conn, 'invalid-peer', 'cannot start a session with yourself', request);
      return;
    }
    // Peers in other rooms or on the gst-examples protocol are invisible, hence "unknown".
    if (!target || target.mode !== 'json' || target.profile.room !== conn.profile.room) {
      this.sendError(conn, 'unknown-peer', `no peer "${targetId}" in this room`, request);
      return;
    }
    if (conn.sessions.size >= this.maxSessionsPerPeer || target.sessions.size >= this.maxSessionsPerPeer) {
      this.sendError(conn, 'too-many-sessions', `a peer may be in at most ${this.maxSessionsPerPeer} sessions`, request);
      return;
    }
    const session: JsonSession = { sessionId: this.newSessionId(), initiator: conn.id, responder: target.id };
    this.sessions.set(session.sessionId, session);
    conn.sessions.add(session.sessionId);
    target.sessions.add(session.sessionId);
    const started: ServerMessage = { type: 'session-started', sessionId: session.sessionId, peerId: target.id, initiator: true };
    if (requestId !== undefined) started.requestId = requestId;
    this.sendJson(conn, started);
    this.sendJson(target, { type: 'session-started', sessionId: session.sessionId, peerId: conn.id, initiator: false });
    this.emit('sessionstarted', { ...session, protocol: 'json' });
  }

  /** The session if `conn` is a member; otherwise replies unknown-session (never revealing others' sessions). */
  private sessionOf(conn: Connection, sessionId: string, request: { type: string; requestId?: RequestId }): JsonSession | undefined {
    const session = this.sessions.get(sessionId);
    if (session && conn.sessions.has(sessionId)) return session;
    this.sendError(conn, 'unknown-session', `you are not in a session "${sessionId}"`, request);
    return undefined;
  }

  private endSession(sessionId: string, reason: SessionEndReason | 'server-closed', by: string, requestId?: RequestId): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.sessions.delete(sessionId);
    for (const memberId of [session.initiator, session.responder]) {
      const member = this.peersById.get(memberId);
      if (!member) continue;
      member.sessions.delete(sessionId);
      if (reason === 'server-closed') continue;
      const ended: ServerMessage = { type: 'session-ended', sessionId, reason, by };
      if (memberId === by && requestId !== undefined) ended.requestId = requestId;
      this.sendJson(member, ended);
    }
    this.emit('sessionended', { ...session, protocol: 'json', reason, by });
  }

  private emitGstSessionEnded(session: GstExamplesSession, leftPeer: string): void {
    this.emit('sessionended', {
      ...session,
      protocol: 'gst-examples',
      reason: this.closing ? 'server-closed' : 'peer-left',
      by: leftPeer,
    });
  }

  // ---- helpers ----

  private peerInfo(conn: Connection): PeerInfo {
    const info: PeerInfo = { peerId: conn.id };
    if (conn.profile.role !== undefined) info.role = conn.profile.role;
    if (conn.profile.name !== undefined) info.name = conn.profile.name;
    if (conn.profile.meta !== undefined) info.meta = conn.profile.meta;
    return info;
  }

  private limits(): ServerLimits {
    return {
      maxMessageBytes: this.maxMessageBytes,
      rateLimit: this.rateLimit,
      maxSessionsPerPeer: this.maxSessionsPerPeer,
      heartbeatMs: this.heartbeatMs,
    };
  }

  private newPeerId(): string {
    let id: string;
    do id = randomBytes(8).toString('hex');
    while (this.peersById.has(id));
    return id;
  }

  private newSessionId(): string {
    return `s-${randomBytes(12).toString('base64url')}`;
  }
}
