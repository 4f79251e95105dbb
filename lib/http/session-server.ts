// What WhipServer and WhepServer share: the server side of HTTP-negotiated
// WebRTC sessions (RFC 9725, WHEP). Routing, authentication, CORS, limits, the
// resource's ETag, trickle ICE by PATCH and DELETE. The subclasses say how a
// session's WebRtcBin is made.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { OperationError } from '../core/errors.js';
import { SafeEmitter, type ListenerErrorEvent } from '../core/safe-emitter.js';
import { checkDescription } from '../core/sdp.js';
import type { IceCandidate, IceServer } from '../core/types.js';
import type { WebRtcBin } from '../core/webrtcbin.js';
import { HttpRefusal, mediaType, readBody, send } from './http-body.js';
import { HttpSession, type HttpSessionEndReason } from './http-session.js';
import { iceServersToLinkHeaders } from './link-header.js';
import { completeLocalSdp, iceCredentials, normalizeRemoteSdp } from './session-sdp.js';
import { watchSession } from './session-watch.js';
import { parseTrickleFragment, TRICKLE_ICE_SDPFRAG } from './trickle-fragment.js';

/** Options of WhipServer and WhepServer. */
export interface HttpSessionServerOptions {
  /** The endpoint's path; sessions live under it (`<path>/<id>`). Default `/whip` or `/whep`. */
  path?: string;
  /** A Bearer token every request must carry (`Authorization: Bearer <token>`). */
  token?: string;
  /** Decides instead of (or after) `token`: resolve true to let the request through. Gets the Bearer token, or null. */
  authorize?: (request: IncomingMessage, token: string | null) => boolean | Promise<boolean>;
  /** STUN/TURN servers: used by every session and announced in `Link` headers (on POST, and on OPTIONS to authorized clients). */
  iceServers?: IceServer[];
  /** Sessions at once; more get 503 with Retry-After. Default 100. */
  maxSessions?: number;
  /** Largest request body in bytes; larger ones get 413. Default 65536. */
  maxBodyBytes?: number;
  /** `Access-Control-Allow-Origin` for browser clients, or false for no CORS headers. Default `'*'`. */
  corsOrigin?: string | false;
  /** The server's public base URL (e.g. `https://media.example`) for `Location`; default: from the request's Host header. */
  publicUrl?: string;
  /** Milliseconds the answer waits for our ICE candidates. Default 5000. */
  gatheringTimeout?: number;
  /** Milliseconds a session may take to connect, and may stay disconnected, before it is freed. Default 30000. */
  connectTimeout?: number;
  /** Milliseconds without packets from a connected peer before its session is freed. Default 15000. */
  inactivityTimeout?: number;
}

/** Events of WhipServer and WhepServer. */
export interface HttpSessionServerEvents extends ListenerErrorEvent {
  /** A session was created (before its answer is sent). */
  session: [session: HttpSession];
  /** A session ended. */
  sessionclose: [session: HttpSession, reason: HttpSessionEndReason];
  /** A request failed on our side (5xx), or a session's teardown failed. The server carries on. */
  error: [error: Error];
  /** close() ran. */
  close: [];
}

/** @internal What a subclass makes for one offer. */
export interface SessionMedia {
  webrtcbin: WebRtcBin;
  /** Resolves when the WebRtcBin may answer (e.g. once its media has caps). */
  ready?: Promise<void>;
  /** Frees what was made (removes a fan-out viewer, closes a WebRtcBin). */
  release(): Promise<void>;
}

const ALLOW_ENDPOINT = 'OPTIONS, POST';
/** How long one beforeRelease() task may hold up a session's release. */
const RELEASE_TASK_TIMEOUT_MS = 5000;
const ALLOW_RESOURCE = 'OPTIONS, PATCH, DELETE';

/** @internal The shared server; see WhipServer and WhepServer. */
export abstract class HttpSessionServer<Events extends HttpSessionServerEvents & { [K in keyof Events]: unknown[] } = HttpSessionServerEvents> extends SafeEmitter<Events> {
  /** The endpoint's path. */
  readonly path: string;
  protected readonly options: HttpSessionServerOptions;
  private readonly sessionMap = new Map<string, { session: HttpSession; media: SessionMedia; timer: NodeJS.Timeout }>();
  private pendingSessions = 0;
  private ownServer: Server | null = null;
  private attached: { server: Server; listener: (request: IncomingMessage, response: ServerResponse) => void; previous: ((...args: unknown[]) => void)[] } | null = null;
  private closing: Promise<void> | null = null;
  private readonly maxSessions: number;
  private readonly maxBodyBytes: number;
  private readonly linkHeaders: string[];

  protected constructor(defaultPath: string, options: HttpSessionServerOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const path = options.path ?? defaultPath;
    if (typeof path !== 'string' || !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(path)) throw new TypeError(`path must start with / and be a URL path, not ${JSON.stringify(path)}`);
    this.path = path.length > 1 ? path.replace(/\/+$/, '') : path;
    const positive = (name: keyof HttpSessionServerOptions, fallback: number) => {
      const value = options[name] ?? fallback;
      if (!Number.isInteger(value) || (value as number) <= 0) throw new TypeError(`${name} must be a positive integer`);
      return value as number;
    };
    this.maxSessions = positive('maxSessions', 100);
    this.maxBodyBytes = positive('maxBodyBytes', 65_536);
    positive('gatheringTimeout', 5000);
    positive('connectTimeout', 30_000);
    positive('inactivityTimeout', 15_000);
    if (options.token !== undefined && (typeof options.token !== 'string' || options.token === '')) throw new TypeError('token must be a non-empty string');
    if (options.authorize !== undefined && typeof options.authorize !== 'function') throw new TypeError('authorize must be a function');
    if (options.publicUrl !== undefined) new URL(options.publicUrl); // throws TypeError for a malformed one
    this.linkHeaders = iceServersToLinkHeaders(options.iceServers);
    this.options = options;
  }

  /** The sessions now open. */
  get sessions(): HttpSession[] {
    return [...this.sessionMap.values()].map((entry) => entry.session);
  }

  /** Whether close() has run. */
  get closed(): boolean {
    return this.closing !== null;
  }

  /**
   * Serves on its own HTTP server. Resolves with the endpoint's URL.
   * @param port default 0 (any free port); @param host default `127.0.0.1`.
   */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.closing !== null || this.ownServer !== null || this.attached !== null) throw new OperationError('the server is closed or already serving');
    const server = createServer((request, response) => {
      if (!this.handle(request, response)) send(response, 404, this.corsHeaders(), `no such endpoint: ${request.url ?? ''}`);
    });
    this.ownServer = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const hostText = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${hostText}:${address.port}${this.path}`;
  }

  /**
   * Serves on an existing HTTP server: requests under `path` are handled here,
   * every other request goes to the server's other `request` listeners.
   */
  attach(server: Server): void {
    if (this.closing !== null || this.ownServer !== null || this.attached !== null) throw new OperationError('the server is closed or already serving');
    const previous = server.listeners('request') as ((...args: unknown[]) => void)[];
    server.removeAllListeners('request');
    const listener = (request: IncomingMessage, response: ServerResponse) => {
      if (this.handle(request, response)) return;
      if (previous.length === 0) send(response, 404, {}, `no such endpoint: ${request.url ?? ''}`);
      for (const other of previous) other.call(server, request, response);
    };
    server.on('request', listener);
    this.attached = { server, listener, previous };
  }

  /**
   * Handles a request if it is for this endpoint or one of its sessions;
   * returns false (and does nothing) otherwise. For servers of your own.
   */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    const pathname = pathOf(request.url);
    if (pathname === null) return false;
    let id: string | null;
    if (pathname === this.path) id = null;
    else if (pathname.startsWith(`${this.path === '/' ? '' : this.path}/`)) id = pathname.slice(this.path === '/' ? 1 : this.path.length + 1);
    else return false;
    this.serve(request, response, id).catch((error: unknown) => {
      if (error instanceof HttpRefusal) {
        send(response, error.status, { ...this.corsHeaders(), ...error.headers }, error.message);
        return;
      }
      this.notify('error', error instanceof Error ? error : new Error(String(error)));
      send(response, 500, this.corsHeaders(), 'internal error');
    });
    return true;
  }

  /** Ends every session, stops serving (and closes its own HTTP server). Idempotent. */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closing = (async () => {
      if (this.attached !== null) {
        const { server, listener, previous } = this.attached;
        server.off('request', listener);
        for (const other of previous) server.on('request', other);
        this.attached = null;
      }
      await Promise.all(this.sessions.map((session) => session.finish('server-closed')));
      if (this.ownServer !== null) {
        const server = this.ownServer;
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }
      this.notify('close');
    })();
    return this.closing;
  }

  /** Makes the WebRtcBin for an offer. Throw HttpRefusal to refuse it with a status. */
  protected abstract createMedia(offer: string, request: IncomingMessage): SessionMedia;

  /** Called with each new session before its offer is applied (e.g. to forward its tracks). */
  protected abstract sessionCreated(session: HttpSession): void;

  /** Dispatches one of the shared events (the subclass's event map extends them). */
  protected notify<K extends keyof HttpSessionServerEvents & string>(event: K, ...args: HttpSessionServerEvents[K]): void {
    const emitter = this as unknown as { dispatch(event: string, ...args: unknown[]): boolean; dispatchError(event: string, ...args: unknown[]): void };
    if (event === 'error') emitter.dispatchError(event, ...args);
    else emitter.dispatch(event, ...args);
  }

  private async serve(request: IncomingMessage, response: ServerResponse, id: string | null): Promise<void> {
    if (this.closing !== null) throw new HttpRefusal(503, 'the server is shutting down');
    const method = request.method ?? '';
    if (id === null) {
      if (method === 'OPTIONS') return this.options_(request, response, ALLOW_ENDPOINT);
      if (method === 'POST') return this.post(request, response);
      throw new HttpRefusal(405, `${method} is not allowed on the endpoint`, { allow: ALLOW_ENDPOINT });
    }
    if (method === 'OPTIONS') return this.options_(request, response, ALLOW_RESOURCE);
    if (method !== 'PATCH' && method !== 'DELETE') throw new HttpRefusal(405, `${method} is not allowed on a session`, { allow: ALLOW_RESOURCE });
    await this.authorize(request);
    const entry = this.sessionMap.get(id);
    if (entry === undefined) throw new HttpRefusal(404, 'no such session (it ended, or never existed)');
    if (method === 'DELETE') {
      request.resume();
      await entry.session.finish('deleted');
      send(response, 200, this.corsHeaders());
      return;
    }
    await this.patch(request, response, entry.session);
  }

  private async options_(request: IncomingMessage, response: ServerResponse, allow: string): Promise<void> {
    request.resume();
    const headers: Record<string, string | string[]> = { ...this.corsHeaders(), allow };
    if (allow === ALLOW_ENDPOINT) headers['accept-post'] = 'application/sdp';
    else headers['accept-patch'] = TRICKLE_ICE_SDPFRAG;
    // ICE servers (TURN credentials) only for a real OPTIONS from an authorized
    // client, never for a CORS preflight, which carries no credentials.
    const preflight = request.headers['access-control-request-method'] !== undefined;
    if (!preflight && allow === ALLOW_ENDPOINT && this.linkHeaders.length > 0 && (await this.isAuthorized(request))) headers.link = this.linkHeaders;
    send(response, 204, headers);
  }

  private async post(request: IncomingMessage, response: ServerResponse): Promise<void> {
    await this.authorize(request);
    if (mediaType(request.headers['content-type']) !== 'application/sdp') {
      request.resume();
      throw new HttpRefusal(415, `the offer must be application/sdp, not ${request.headers['content-type'] ?? 'without a Content-Type'}`, { 'accept-post': 'application/sdp' });
    }
    if (this.sessionMap.size + this.pendingSessions >= this.maxSessions) {
      request.resume();
      throw new HttpRefusal(503, `the server is at its limit of ${this.maxSessions} sessions`, { 'retry-after': '10' });
    }
    this.pendingSessions++;
    let media: SessionMedia | null = null;
    let session: HttpSession | null = null;
    try {
      const body = await readBody(request, this.maxBodyBytes);
      const offer = parseOffer(body);
      media = this.createMedia(offer, request);
      const id = randomUUID();
      const url = `${this.baseUrl(request)}${this.path === '/' ? '' : this.path}/${id}`;
      session = new HttpSession(id, url, media.webrtcbin, request.socket.remoteAddress ?? '', (s, reason) => this.endSession(s, reason));
      session.remoteUfrag = iceCredentials(offer).ufrag;
      await media.ready;
      const answer = await this.answer(media.webrtcbin, offer, session);
      if (this.closing !== null) throw new HttpRefusal(503, 'the server is shutting down');
      const timer = watchSession(session, this.options.connectTimeout ?? 30_000, this.options.inactivityTimeout ?? 15_000);
      this.sessionMap.set(id, { session, media, timer });
      this.pendingSessions--;
      this.notify('session', session);
      const headers: Record<string, string | string[]> = {
        ...this.corsHeaders(),
        'content-type': 'application/sdp',
        location: url,
        etag: session.etag,
        'accept-patch': TRICKLE_ICE_SDPFRAG,
      };
      if (this.linkHeaders.length > 0) headers.link = this.linkHeaders;
      send(response, 201, headers, answer);
    } catch (error) {
      if (session === null || !this.sessionMap.has(session.id)) {
        this.pendingSessions--;
        await media?.release().catch(() => undefined);
      }
      if (error instanceof HttpRefusal) throw error;
      if (error instanceof TypeError) throw new HttpRefusal(400, `malformed offer: ${error.message}`);
      if (error instanceof OperationError) throw new HttpRefusal(406, error.message);
      throw new HttpRefusal(400, `the offer could not be answered: ${(error as Error).message}`);
    }
  }

  /** Applies the offer and makes the answer, with our candidates and session-level ICE credentials. */
  private async answer(webrtcbin: WebRtcBin, offer: string, session: HttpSession): Promise<string> {
    const candidates: IceCandidate[] = [];
    let ended = false;
    const onCandidate = (candidate: IceCandidate | null) => {
      if (candidate === null) ended = true;
      else candidates.push(candidate);
    };
    webrtcbin.on('icecandidate', onCandidate);
    try {
      this.sessionCreated(session);
      await webrtcbin.setRemoteDescription({ type: 'offer', sdp: normalizeRemoteSdp(offer) });
      const answer = await webrtcbin.createAnswer();
      await webrtcbin.setLocalDescription(answer);
      await new Promise<void>((resolve) => {
        const check = () => {
          if (!ended && webrtcbin.iceGatheringState !== 'complete' && !webrtcbin.closed) return;
          clearTimeout(timer);
          webrtcbin.off('icegatheringstatechange', check);
          webrtcbin.off('icecandidate', check);
          resolve();
        };
        const timer = setTimeout(() => {
          ended = true;
          check();
        }, this.options.gatheringTimeout ?? 5000);
        webrtcbin.on('icegatheringstatechange', check);
        webrtcbin.on('icecandidate', check);
        check();
      });
      const local = webrtcbin.localDescription;
      if (local === null) throw new Error('webrtcbin made no answer');
      return completeLocalSdp(local.sdp, candidates, webrtcbin.iceGatheringState === 'complete');
    } finally {
      webrtcbin.off('icecandidate', onCandidate);
    }
  }

  private async patch(request: IncomingMessage, response: ServerResponse, session: HttpSession): Promise<void> {
    if (mediaType(request.headers['content-type']) !== TRICKLE_ICE_SDPFRAG) {
      request.resume();
      throw new HttpRefusal(415, `PATCH takes ${TRICKLE_ICE_SDPFRAG}, not ${request.headers['content-type'] ?? 'a body without Content-Type'}`, { 'accept-patch': TRICKLE_ICE_SDPFRAG });
    }
    const ifMatch = request.headers['if-match']?.trim();
    if (ifMatch === undefined || ifMatch === '') {
      request.resume();
      throw new HttpRefusal(428, 'PATCH needs If-Match with the session ETag');
    }
    if (ifMatch === '*') {
      request.resume();
      throw new HttpRefusal(422, 'ICE restart is not supported: GStreamer 1.22 webrtcbin cannot restart ICE as the answering side; DELETE this session and POST a new offer');
    }
    if (!ifMatch.split(',').some((tag) => tag.trim() === session.etag)) {
      request.resume();
      throw new HttpRefusal(412, `If-Match ${ifMatch} does not match the session's ETag`, { etag: session.etag });
    }
    const body = await readBody(request, this.maxBodyBytes);
    let fragment;
    try {
      fragment = parseTrickleFragment(body);
    } catch (error) {
      throw new HttpRefusal(400, `malformed trickle fragment: ${(error as Error).message}`);
    }
    if (fragment.iceUfrag !== null && session.remoteUfrag !== null && fragment.iceUfrag !== session.remoteUfrag) {
      throw new HttpRefusal(422, 'new ICE credentials ask for an ICE restart, which GStreamer 1.22 webrtcbin cannot do as the answering side; DELETE this session and POST a new offer');
    }
    for (const candidate of fragment.candidates) {
      try {
        await session.webrtcbin.addIceCandidate(candidate);
      } catch (error) {
        throw new HttpRefusal(400, `candidate refused: ${(error as Error).message}`);
      }
    }
    send(response, 204, { ...this.corsHeaders(), etag: session.etag });
  }

  private async endSession(session: HttpSession, reason: HttpSessionEndReason): Promise<void> {
    const entry = this.sessionMap.get(session.id);
    if (entry === undefined) return;
    this.sessionMap.delete(session.id);
    clearInterval(entry.timer);
    await Promise.all(
      session.releaseTasks.map(async (task) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([Promise.resolve().then(task), new Promise((resolve) => (timer = setTimeout(resolve, RELEASE_TASK_TIMEOUT_MS)))]);
        } catch (error) {
          this.notify('error', error instanceof Error ? error : new Error(String(error)));
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    try {
      await entry.media.release();
    } catch (error) {
      this.notify('error', error as Error);
    }
    this.notify('sessionclose', session, reason);
  }

  private async isAuthorized(request: IncomingMessage): Promise<boolean> {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const token = match?.[1] ?? null;
    if (this.options.token !== undefined) {
      if (token === null) return false;
      const expected = Buffer.from(this.options.token);
      const given = Buffer.from(token);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    }
    if (this.options.authorize !== undefined) return (await this.options.authorize(request, token)) === true;
    return true;
  }

  private async authorize(request: IncomingMessage): Promise<void> {
    if (this.options.token === undefined && this.options.authorize === undefined) return;
    let allowed: boolean;
    try {
      allowed = await this.isAuthorized(request);
    } catch (error) {
      request.resume();
      throw new HttpRefusal(500, `authorization failed: ${(error as Error).message}`);
    }
    if (!allowed) {
      request.resume();
      throw new HttpRefusal(401, 'missing or invalid Bearer token', { 'www-authenticate': 'Bearer' });
    }
  }

  private corsHeaders(): Record<string, string> {
    const origin = this.options.corsOrigin ?? '*';
    if (origin === false) return {};
    return {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': 'OPTIONS, POST, PATCH, DELETE',
      'access-control-allow-headers': 'Authorization, Content-Type, If-Match',
      'access-control-expose-headers': 'Location, ETag, Link, Accept-Patch, Accept-Post, Retry-After',
    };
  }

  private baseUrl(request: IncomingMessage): string {
    if (this.options.publicUrl !== undefined) return this.options.publicUrl.replace(/\/+$/, '');
    const encrypted = (request.socket as { encrypted?: boolean }).encrypted === true;
    const host = request.headers.host;
    if (host !== undefined && /^[A-Za-z0-9.\-:[\]]+$/.test(host)) return `${encrypted ? 'https' : 'http'}://${host}`;
    const address = request.socket.localAddress ?? '127.0.0.1';
    return `${encrypted ? 'https' : 'http'}://${address.includes(':') ? `[${address}]` : address}:${request.socket.localPort}`;
  }
}

/** The path of a request URL, or null for one that does not parse. */
function pathOf(url: string | undefined): string | null {
  try {
    return new URL(url ?? '/', 'http://x').pathname;
  } catch {
    return null;
  }
}

/** Checks an offer's text. @throws TypeError naming what is wrong. */
function parseOffer(body: string): string {
  if (body.trim() === '') throw new TypeError('the body is empty');
  const sdp = body.replace(/^\uFEFF/, '');
  checkDescription({ type: 'offer', sdp });
  if (!/^m=(audio|video) /m.test(sdp)) throw new TypeError('the offer has no audio or video m-line');
  return sdp;
}
