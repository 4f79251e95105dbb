import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, type ClientOptions } from 'ws';
import { SignallingClient, SignallingError } from '../lib/signalling/client.js';
import { until } from './support/wait.js';
import {
  parseClientMessage,
  parseServerMessage,
  type ServerMessage,
  type ServerMessageType,
} from '../lib/signalling/protocol.js';
import {
  SignallingServer,
  type SignallingServerEvents,
  type SignallingServerOptions,
} from '../lib/signalling/server.js';

const WAIT_MS = 3000;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function within<T>(promise: Promise<T>, label: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the first emission of `name` whose arguments satisfy `match`. */
function nextEvent<Events extends Record<keyof Events, unknown[]>, K extends keyof Events & string>(
  emitter: EventEmitter<Events>,
  name: K,
  match: (...args: Events[K]) => boolean = () => true,
): Promise<Events[K]> {
  const plain = emitter as unknown as EventEmitter;
  return within(
    new Promise<Events[K]>((resolve) => {
      const listener = (...args: unknown[]): void => {
        if (!match(...(args as Events[K]))) return;
        plain.off(name, listener);
        resolve(args as Events[K]);
      };
      plain.on(name, listener);
    }),
    `event "${name}"`,
  );
}

function serverEvent<K extends keyof SignallingServerEvents>(
  server: SignallingServer,
  name: K,
  match: (event: SignallingServerEvents[K][0]) => boolean = () => true,
): Promise<SignallingServerEvents[K][0]> {
  return nextEvent(server, name, (...args) => match(args[0])).then((args) => args[0]);
}

async function startServer(options: SignallingServerOptions = {}): Promise<SignallingServer> {
  const server = new SignallingServer(options);
  cleanups.push(() => server.close());
  await server.listen();
  return server;
}

class HttpRefusal extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/**
 * A raw WebSocket that queues everything it receives, so no message can be missed.
 * Presence notices (peer-joined/peer-left) go to `presence` instead of the inbox
 * unless `watchPresence` is set, so tests about other things are not disturbed by them.
 */
class TestPeer {
  watchPresence = false;
  readonly presence: string[] = [];
  private readonly inbox: string[] = [];
  private readonly waiters: Array<{ resolve: (text: string) => void; reject: (err: Error) => void }> = [];
  private closeInfo: { code: number; reason: string } | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = Buffer.isBuffer(data) ? data.toString() : String(data);
      if (!this.watchPresence && /^\{"type":"peer-(joined|left)"/.test(text)) {
        this.presence.push(text);
        return;
      }
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(text);
      else this.inbox.push(text);
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`socket closed with ${code}`));
        resolve(this.closeInfo);
      });
    });
  }

  static open(url: string, options: ClientOptions = {}): Promise<TestPeer> {
    return within(
      new Promise<TestPeer>((resolve, reject) => {
        const ws = new WebSocket(url, options);
        const peer = new TestPeer(ws);
        cleanups.push(() => ws.terminate());
        ws.on('error', reject);
        ws.once('unexpected-response', (_req, res) => {
          reject(new HttpRefusal(res.statusCode ?? 0));
          res.resume();
          ws.terminate();
        });
        ws.once('open', () => resolve(peer));
      }),
      `open ${url}`,
    );
  }

  /** Opens a peer and registers it on the JSON protocol; returns it with its peer id. */
  static async json(
    url: string,
    hello: Record<string, unknown> = {},
    watchPresence = false,
  ): Promise<{ peer: TestPeer; id: string }> {
    const peer = await TestPeer.open(url);
    peer.watchPresence = watchPresence;
    peer.sendJson({ type: 'hello', ...hello });
    const welcome = await peer.expect('welcome');
    return { peer, id: welcome.peerId };
  }

  /** Opens a peer on the gst-examples protocol as `uid`. */
  static async gst(url: string, uid: string): Promise<TestPeer> {
    const peer = await TestPeer.open(url);
    peer.send(`HELLO ${uid}`);
    expect(await peer.nextText()).toBe('HELLO');
    return peer;
  }

  send(text: string | Buffer): void {
    this.ws.send(text);
  }

  sendJson(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  nextText(): Promise<string> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closeInfo) return Promise.reject(new Error(`socket closed with ${this.closeInfo.code}`));
    return within(
      new Promise<string>((resolve, reject) => this.waiters.push({ resolve, reject })),
      'next message',
    ).catch((err: unknown) => {
      this.waiters.splice(0);
      throw err;
    });
  }

  /** Next message, validated as a well-formed server message. */
  async next(): Promise<ServerMessage> {
    const parsed = parseServerMessage(await this.nextText());
    if (!parsed.ok) throw new Error(`server sent an invalid message: ${parsed.error.message}`);
    return parsed.message;
  }

  async expect<T extends ServerMessageType>(type: T): Promise<Extract<ServerMessage, { type: T }>> {
    const message = await this.next();
    expect(message.type).toBe(type);
    return message as Extract<ServerMessage, { type: T }>;
  }

  /** Round trip through the server: proves nothing else was queued for us before it. */
  async barrier(): Promise<void> {
    const requestId = `barrier-${randomBytes(4).toString('hex')}`;
    this.sendJson({ type: 'list', requestId });
    expect(await this.next()).toMatchObject({ type: 'peers', requestId });
  }

  get pending(): number {
    return this.inbox.length;
  }
}

async function refusedStatus(url: string, options: ClientOptions = {}): Promise<number> {
  try {
    await TestPeer.open(url, options);
  } catch (err) {
    if (err instanceof HttpRefusal) return err.status;
    throw err;
  }
  throw new Error('the upgrade was accepted');
}

/** A fresh client can still register, list and run a session: the server survived. */
async function expectServing(server: SignallingServer): Promise<void> {
  const a = await TestPeer.json(server.url);
  const b = await TestPeer.json(server.url);
  a.peer.sendJson({ type: 'session-start', peerId: b.id });
  const started = await a.peer.expect('session-started');
  await b.peer.expect('session-started');
  a.peer.sendJson({ type: 'session-message', sessionId: started.sessionId, payload: { type: 'ice', candidate: null } });
  expect(await b.peer.next()).toMatchObject({ type: 'session-message', from: a.id });
  a.peer.ws.close();
  b.peer.ws.close();
}

const OFFER = { type: 'offer', sdp: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' } as const;
const CANDIDATE = { candidate: 'candidate:1 1 UDP 2122252543 127.0.0.1 40000 typ host', sdpMLineIndex: 0, sdpMid: '0' };

async function pairInSession(url: string): Promise<{
  a: { peer: TestPeer; id: string };
  b: { peer: TestPeer; id: string };
  sessionId: string;
}> {
  const a = await TestPeer.json(url);
  const b = await TestPeer.json(url);
  a.peer.sendJson({ type: 'session-start', peerId: b.id });
  const started = await a.peer.expect('session-started');
  await b.peer.expect('session-started');
  return { a, b, sessionId: started.sessionId };
}

describe('protocol parser', () => {
  it('accepts each client message type and drops unknown fields', () => {
    expect(parseClientMessage('{"type":"hello","role":"sender","room":"r","meta":{"a":1},"requestId":"x"}')).toEqual({
      ok: true,
      message: { type: 'hello', role: 'sender', room: 'r', meta: { a: 1 }, requestId: 'x' },
    });
    expect(parseClientMessage({ type: 'list', requestId: 3 })).toEqual({ ok: true, message: { type: 'list', requestId: 3 } });
    expect(parseClientMessage({ type: 'session-start', peerId: 'p' })).toEqual({
      ok: true,
      message: { type: 'session-start', peerId: 'p' },
    });
    expect(
      parseClientMessage({
        type: 'session-message',
        sessionId: 's',
        from: 'forged',
        payload: { type: 'ice', candidate: { ...CANDIDATE, sdpMid: null, extra: 1 } },
      }),
    ).toEqual({
      ok: true,
      message: {
        type: 'session-message',
        sessionId: 's',
        payload: { type: 'ice', candidate: { candidate: CANDIDATE.candidate, sdpMLineIndex: 0 } },
      },
    });
    expect(parseClientMessage({ type: 'session-end', sessionId: 's' })).toEqual({
      ok: true,
      message: { type: 'session-end', sessionId: 's' },
    });
  });

  it('returns typed errors for bad input', () => {
    const codeOf = (data: unknown): string | undefined => {
      const result = parseClientMessage(data);
      return result.ok ? undefined : result.error.code;
    };
    expect(codeOf('{nope')).toBe('bad-json');
    expect(codeOf('[]')).toBe('invalid-message');
    expect(codeOf({ type: 7 })).toBe('invalid-message');
    expect(codeOf({ type: 'teleport' })).toBe('unknown-type');
    expect(codeOf({ type: 'session-start' })).toBe('invalid-message');
    expect(codeOf({ type: 'session-start', peerId: 'x'.repeat(500) })).toBe('invalid-message');
    expect(codeOf({ type: 'hello', meta: { blob: 'x'.repeat(2000) } })).toBe('invalid-message');
    expect(codeOf({ type: 'session-message', sessionId: 's', payload: { type: 'sdp', sdp: { type: 'bogus', sdp: '' } } })).toBe(
      'invalid-message',
    );
    expect(codeOf({ type: 'session-message', sessionId: 's', payload: { type: 'ice' } })).toBe('invalid-message');
    expect(parseClientMessage({ type: 'teleport', requestId: 'q' })).toEqual({
      ok: false,
      error: { code: 'unknown-type', message: 'unknown message type "teleport"', requestType: 'teleport', requestId: 'q' },
    });
  });
});

describe('SignallingServer lifecycle', () => {
  it('listens on an ephemeral port and closes idempotently, closing every socket', async () => {
    const server = new SignallingServer();
    cleanups.push(() => server.close());
    const address = await server.listen();
    expect(address.port).toBeGreaterThan(0);
    expect(address.address).toBe('127.0.0.1');
    expect(server.url).toBe(`ws://127.0.0.1:${address.port}/`);
    const { peer, id } = await TestPeer.json(server.url);
    expect(server.peers).toEqual([id]);
    const left = serverEvent(server, 'peerleft');
    const first = server.close();
    expect(server.close()).toBe(first);
    await first;
    expect(await within(peer.closed, 'client close')).toMatchObject({ code: 1001 });
    expect(await left).toEqual({ peerId: id, protocol: 'json', reason: 'server-closed' });
    expect(server.peers).toEqual([]);
    await expect(server.listen()).rejects.toThrow(/closed/);
  });

  it('attaches to an existing HTTP server, honours the path and leaves the HTTP server open', async () => {
    const httpServer = http.createServer((_req, res) => res.end('plain http'));
    cleanups.push(() => new Promise((resolve) => httpServer.close(resolve)));
    const server = await startServer({ server: httpServer, path: '/signal' });
    expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/signal$/);
    await TestPeer.json(server.url);
    await server.close();
    expect(httpServer.listening).toBe(true);
  });

  it('refuses upgrades on other paths of its own server with 404', async () => {
    const server = await startServer({ path: '/signal' });
    expect(await refusedStatus(server.url.replace('/signal', '/elsewhere'))).toBe(404);
    await expectServing(server);
  });

  it('refuses connections beyond maxPeers with 503 until one leaves', async () => {
    const server = await startServer({ maxPeers: 2 });
    const first = await TestPeer.json(server.url);
    await TestPeer.json(server.url);
    expect(await refusedStatus(server.url)).toBe(503);
    const left = serverEvent(server, 'peerleft', (e) => e.peerId === first.id);
    first.peer.ws.close();
    await left;
    await TestPeer.json(server.url);
  });

  it('serves wss:// with a TLS certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signalling-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'));
    const server = await startServer({ tls: { cert, key: readFileSync(join(dir, 'key.pem')) } });
    expect(server.url).toMatch(/^wss:\/\//);
    const client = new SignallingClient();
    cleanups.push(() => client.close());
    expect(await client.connect(server.url, { ca: cert })).toMatch(/^[0-9a-f]{16}$/);
    const untrusting = new SignallingClient();
    await expect(untrusting.connect(server.url)).rejects.toMatchObject({ code: 'handshake-failed' });
  });
});

describe('JSON protocol', () => {
  it('welcomes a hello with the assigned id, echoing requestId, role and room', async () => {
    const server = await startServer();
    const joined = serverEvent(server, 'peerjoined');
    const peer = await TestPeer.open(server.url);
    peer.sendJson({ type: 'hello', requestId: 'h1', role: 'sender', name: 'cam', room: 'studio', meta: { codec: 'vp8' } });
    const welcome = await peer.expect('welcome');
    expect(welcome).toMatchObject({ requestId: 'h1', role: 'sender', name: 'cam', room: 'studio', protocolVersion: 1 });
    expect(welcome.limits).toEqual({
      maxMessageBytes: 65536,
      rateLimit: { messages: 100, perSeconds: 1 },
      maxSessionsPerPeer: 16,
      heartbeatMs: 30000,
    });
    expect(await joined).toMatchObject({ peerId: welcome.peerId, protocol: 'json', role: 'sender', room: 'studio' });
    expect(server.peers).toEqual([welcome.peerId]);
  });

  it('registers implicitly when the first message is not a hello', async () => {
    const server = await startServer();
    const peer = await TestPeer.open(server.url);
    peer.sendJson({ type: 'list', requestId: 1 });
    const welcome = await peer.expect('welcome');
    expect(welcome.requestId).toBeUndefined();
    expect(welcome.room).toBe('');
    expect(await peer.next()).toEqual({ type: 'peers', requestId: 1, peers: [] });
  });

  it('answers hello after registration with already-registered', async () => {
    const server = await startServer();
    const { peer } = await TestPeer.json(server.url);
    peer.sendJson({ type: 'hello', requestId: 2, role: 'x' });
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'already-registered', requestType: 'hello', requestId: 2 });
  });

  it('lists peers of the same room only and announces joins and leaves there', async () => {
    const server = await startServer();
    const a = await TestPeer.json(server.url, { role: 'viewer', room: 'r1' }, true);
    const lobby = await TestPeer.json(server.url, {}, true);
    const b = await TestPeer.json(server.url, { role: 'sender', name: 'cam', room: 'r1', meta: { n: 1 } });
    expect(await a.peer.next()).toEqual({
      type: 'peer-joined',
      peer: { peerId: b.id, role: 'sender', name: 'cam', meta: { n: 1 } },
    });
    a.peer.sendJson({ type: 'list', requestId: 'l' });
    expect(await a.peer.next()).toEqual({
      type: 'peers',
      requestId: 'l',
      peers: [{ peerId: b.id, role: 'sender', name: 'cam', meta: { n: 1 } }],
    });
    lobby.peer.sendJson({ type: 'list' });
    expect(await lobby.peer.next()).toEqual({ type: 'peers', peers: [] });
    b.peer.ws.close();
    expect(await a.peer.next()).toEqual({ type: 'peer-left', peerId: b.id });
    await lobby.peer.barrier();
    expect(lobby.peer.pending).toBe(0);
  });

  it('starts a session, relays SDP and ICE with a server-set "from", and ends it', async () => {
    const server = await startServer();
    const a = await TestPeer.json(server.url);
    const b = await TestPeer.json(server.url);
    const startedEvent = serverEvent(server, 'sessionstarted');
    a.peer.sendJson({ type: 'session-start', peerId: b.id, requestId: 'start' });
    const started = await a.peer.expect('session-started');
    expect(started).toMatchObject({ requestId: 'start', peerId: b.id, initiator: true });
    const sessionId = started.sessionId;
    expect(await b.peer.next()).toEqual({ type: 'session-started', sessionId, peerId: a.id, initiator: false });
    expect(await startedEvent).toEqual({ sessionId, initiator: a.id, responder: b.id, protocol: 'json' });

    a.peer.sendJson({ type: 'session-message', sessionId, from: b.id, payload: { type: 'sdp', sdp: OFFER, junk: 1 } });
    expect(await b.peer.next()).toEqual({ type: 'session-message', sessionId, from: a.id, payload: { type: 'sdp', sdp: OFFER } });
    b.peer.sendJson({ type: 'session-message', sessionId, payload: { type: 'sdp', sdp: { type: 'answer', sdp: 'v=0\r\n' } } });
    expect(await a.peer.next()).toMatchObject({ from: b.id, payload: { type: 'sdp', sdp: { type: 'answer' } } });
    b.peer.sendJson({ type: 'session-message', sessionId, payload: { type: 'ice', candidate: CANDIDATE } });
    expect(await a.peer.next()).toEqual({ type: 'session-message', sessionId, from: b.id, payload: { type: 'ice', candidate: CANDIDATE } });
    b.peer.sendJson({ type: 'session-message', sessionId, payload: { type: 'ice', candidate: null } });
    expect(await a.peer.next()).toMatchObject({ payload: { type: 'ice', candidate: null } });

    const endedEvent = serverEvent(server, 'sessionended');
    b.peer.sendJson({ type: 'session-end', sessionId, requestId: 'end' });
    expect(await b.peer.next()).toEqual({ type: 'session-ended', sessionId, reason: 'ended', by: b.id, requestId: 'end' });
    expect(await a.peer.next()).toEqual({ type: 'session-ended', sessionId, reason: 'ended', by: b.id });
    expect(await endedEvent).toMatchObject({ sessionId, reason: 'ended', by: b.id });
    a.peer.sendJson({ type: 'session-message', sessionId, payload: { type: 'ice', candidate: null } });
    expect(await a.peer.next()).toMatchObject({ type: 'error', code: 'unknown-session' });
  });

  it('lets a peer be in several sessions, up to maxSessionsPerPeer', async () => {
    const server = await startServer({ maxSessionsPerPeer: 2 });
    const hub = await TestPeer.json(server.url);
    const others = [await TestPeer.json(server.url), await TestPeer.json(server.url), await TestPeer.json(server.url)];
    const sessionIds: string[] = [];
    for (const other of others.slice(0, 2)) {
      hub.peer.sendJson({ type: 'session-start', peerId: other.id });
      sessionIds.push((await hub.peer.expect('session-started')).sessionId);
      await other.peer.expect('session-started');
    }
    expect(new Set(sessionIds).size).toBe(2);
    hub.peer.sendJson({ type: 'session-start', peerId: others[2]!.id, requestId: 3 });
    expect(await hub.peer.next()).toMatchObject({ type: 'error', code: 'too-many-sessions', requestId: 3 });
    // The other side's cap counts too.
    others[2]!.peer.sendJson({ type: 'session-start', peerId: hub.id });
    expect(await others[2]!.peer.next()).toMatchObject({ type: 'error', code: 'too-many-sessions' });
    // Each session relays only to its own member.
    hub.peer.sendJson({ type: 'session-message', sessionId: sessionIds[1], payload: { type: 'ice', candidate: null } });
    expect(await others[1]!.peer.next()).toMatchObject({ sessionId: sessionIds[1], from: hub.id });
    await others[0]!.peer.barrier();
    expect(others[0]!.peer.pending).toBe(0);
  });

  it('ends the session with reason peer-left when a member disconnects', async () => {
    const server = await startServer();
    const { a, b, sessionId } = await pairInSession(server.url);
    a.peer.watchPresence = true;
    const ended = serverEvent(server, 'sessionended');
    const left = serverEvent(server, 'peerleft');
    b.peer.ws.close();
    expect(await a.peer.next()).toEqual({ type: 'session-ended', sessionId, reason: 'peer-left', by: b.id });
    expect(await a.peer.next()).toEqual({ type: 'peer-left', peerId: b.id });
    expect(await ended).toEqual({ sessionId, initiator: a.id, responder: b.id, protocol: 'json', reason: 'peer-left', by: b.id });
    expect(await left).toEqual({ peerId: b.id, protocol: 'json', reason: 'disconnected' });
    expect(server.peers).toEqual([a.id]);
  });
});

describe('hardening', () => {
  it('answers malformed JSON, unknown types, invalid and binary messages with errors and stays up', async () => {
    const server = await startServer();
    const { peer } = await TestPeer.json(server.url);
    peer.send('{"type": "list"');
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'bad-json' });
    peer.sendJson({ type: 'teleport', requestId: 9 });
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'unknown-type', requestType: 'teleport', requestId: 9 });
    peer.sendJson(['list']);
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'invalid-message' });
    peer.sendJson({ type: 'session-message', sessionId: 's', payload: { type: 'sdp', sdp: { type: 'offer' } } });
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'invalid-message', requestType: 'session-message' });
    peer.send(Buffer.from([1, 2, 3]));
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'unsupported-binary' });
    peer.send('HELLO late-switch');
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'bad-json' });
    await peer.barrier();
    await expectServing(server);
  });

  it('registers a connection whose first message is malformed, then reports the error', async () => {
    const server = await startServer();
    const peer = await TestPeer.open(server.url);
    peer.send('not json at all');
    await peer.expect('welcome');
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'bad-json' });
    await peer.barrier();
  });

  it('closes a connection that sends an oversize message with 1009', async () => {
    const server = await startServer({ maxMessageBytes: 1024 });
    const { peer, id } = await TestPeer.json(server.url);
    const left = serverEvent(server, 'peerleft');
    peer.sendJson({ type: 'list', padding: 'x'.repeat(2000) });
    expect(await within(peer.closed, 'close')).toMatchObject({ code: 1009 });
    expect(await left).toEqual({ peerId: id, protocol: 'json', reason: 'message-too-large' });
    await expectServing(server);
  });

  it('answers a flood beyond the rate limit with rate-limited and closes with 1008', async () => {
    const server = await startServer({ rateLimit: { messages: 5, perSeconds: 60 } });
    const peer = await TestPeer.open(server.url);
    const left = serverEvent(server, 'peerleft');
    for (let i = 0; i < 20; i++) peer.sendJson({ type: 'list', requestId: i });
    await peer.expect('welcome');
    for (let i = 0; i < 5; i++) expect(await peer.next()).toMatchObject({ type: 'peers', requestId: i });
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'rate-limited' });
    expect(await within(peer.closed, 'close')).toMatchObject({ code: 1008 });
    expect(peer.pending).toBe(0);
    expect(await left).toMatchObject({ reason: 'rate-limited' });
    await expectServing(server);
  });

  it('never lets a peer inject into a session it is not part of, nor forge "from"', async () => {
    const server = await startServer();
    const { a, b, sessionId } = await pairInSession(server.url);
    const intruder = await TestPeer.json(server.url);
    intruder.peer.sendJson({
      type: 'session-message',
      sessionId,
      from: a.id,
      payload: { type: 'sdp', sdp: OFFER },
      requestId: 'x',
    });
    expect(await intruder.peer.next()).toMatchObject({ type: 'error', code: 'unknown-session', requestId: 'x' });
    intruder.peer.sendJson({ type: 'session-end', sessionId });
    expect(await intruder.peer.next()).toMatchObject({ type: 'error', code: 'unknown-session' });
    intruder.peer.sendJson({ type: 'session-message', sessionId: 's-made-up', payload: { type: 'ice', candidate: null } });
    expect(await intruder.peer.next()).toMatchObject({ type: 'error', code: 'unknown-session' });
    // Nothing reached either member, and the session still works.
    await a.peer.barrier();
    await b.peer.barrier();
    expect(a.peer.pending + b.peer.pending).toBe(0);
    a.peer.sendJson({ type: 'session-message', sessionId, from: intruder.id, payload: { type: 'ice', candidate: null } });
    expect(await b.peer.next()).toMatchObject({ type: 'session-message', sessionId, from: a.id });
  });

  it('rejects sessions with oneself, unknown peers, peers in other rooms and gst-examples peers', async () => {
    const server = await startServer();
    const { peer, id } = await TestPeer.json(server.url);
    const elsewhere = await TestPeer.json(server.url, { room: 'other' });
    await TestPeer.gst(server.url, 'gst-peer');
    peer.sendJson({ type: 'session-start', peerId: id });
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'invalid-peer' });
    for (const target of ['nobody', elsewhere.id, 'gst-peer']) {
      peer.sendJson({ type: 'session-start', peerId: target });
      expect(await peer.next()).toMatchObject({ type: 'error', code: 'unknown-peer', requestType: 'session-start' });
    }
    await elsewhere.peer.barrier();
    expect(elsewhere.peer.pending).toBe(0);
  });

  it('refuses the upgrade without a valid token and accepts ?token= or a Bearer header', async () => {
    const server = await startServer({ token: 's3cret' });
    expect(await refusedStatus(server.url)).toBe(401);
    expect(await refusedStatus(`${server.url}?token=wrong`)).toBe(401);
    expect(await refusedStatus(server.url, { headers: { Authorization: 'Bearer wrong' } })).toBe(401);
    expect(server.peers).toEqual([]);
    await TestPeer.open(`${server.url}?token=s3cret`);
    await TestPeer.open(server.url, { headers: { Authorization: 'Bearer s3cret' } });
    const client = new SignallingClient();
    const refused = await client.connect(server.url, { token: 'nope' }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(SignallingError);
    expect(refused).toMatchObject({ code: 'handshake-failed', statusCode: 401 });
    const authorised = new SignallingClient();
    cleanups.push(() => authorised.close());
    await authorised.connect(server.url, { token: 's3cret' });
  });

  it('accepts a token validator function', async () => {
    const seen: string[] = [];
    const server = await startServer({
      token: (token, req) => {
        seen.push(token);
        return token === 'good' && req.headers.host !== undefined;
      },
    });
    expect(await refusedStatus(`${server.url}?token=bad`)).toBe(401);
    await TestPeer.open(`${server.url}?token=good`);
    expect(seen).toEqual(['bad', 'good']);
  });

  it('drops a dead peer that stops answering pings, keeping live ones', async () => {
    const server = await startServer({ heartbeatMs: 50 });
    const deadLeft = serverEvent(server, 'peerleft');
    const dead = await TestPeer.open(server.url, { autoPong: false });
    dead.sendJson({ type: 'hello' });
    const deadId = (await dead.expect('welcome')).peerId;
    const live = await TestPeer.json(server.url);
    let pings = 0;
    const threePings = new Promise<void>((resolve) => {
      live.peer.ws.on('ping', () => {
        if (++pings === 3) resolve();
      });
    });
    expect(await deadLeft).toEqual({ peerId: deadId, protocol: 'json', reason: 'heartbeat-timeout' });
    expect(await within(dead.closed, 'dead peer closed')).toMatchObject({ code: 1006 });
    await within(threePings, 'three pings');
    expect(server.peers).toEqual([live.id]);
    await live.peer.barrier();
  });

  it('closes connections that never send a first message', async () => {
    const server = await startServer({ helloTimeoutMs: 50 });
    const silent = await TestPeer.open(server.url);
    expect(await within(silent.closed, 'hello timeout')).toMatchObject({ code: 1008 });
    await expectServing(server);
  });

  it('drops a peer that stops reading once its send buffer exceeds the limit', async () => {
    const server = await startServer({ maxBufferedBytes: 64 * 1024, rateLimit: false });
    const slowId = await registerDeafPeer(server);
    const fast = await TestPeer.json(server.url);
    fast.peer.sendJson({ type: 'session-start', peerId: slowId });
    const sessionId = (await fast.peer.expect('session-started')).sessionId;
    const left = serverEvent(server, 'peerleft', (e) => e.peerId === slowId);
    const bigOffer = { type: 'sdp', sdp: { type: 'offer', sdp: 'a'.repeat(60_000) } };
    let ended: ServerMessage | undefined;
    for (let round = 0; round < 500 && !ended; round++) {
      for (let i = 0; i < 8; i++) fast.peer.sendJson({ type: 'session-message', sessionId, payload: bigOffer });
      fast.peer.sendJson({ type: 'list', requestId: round });
      for (;;) {
        const message = await fast.peer.next();
        if (message.type === 'session-ended') ended = message;
        if (message.type === 'peers') break;
      }
    }
    expect(ended).toEqual({ type: 'session-ended', sessionId, reason: 'peer-left', by: slowId });
    expect(await left).toEqual({ peerId: slowId, protocol: 'json', reason: 'send-buffer-full' });
    await expectServing(server);
  });
});

/**
 * Registers a hand-rolled JSON peer over a raw TCP socket that never reads again:
 * it neither drains what the server sends nor answers pings or the close handshake.
 */
async function registerDeafPeer(server: SignallingServer): Promise<string> {
  const joined = serverEvent(server, 'peerjoined');
  const port = Number(new URL(server.url).port);
  const socket = net.connect(port, '127.0.0.1');
  cleanups.push(() => socket.destroy());
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const response = await within(new Promise<Buffer>((resolve) => socket.once('data', resolve)), 'upgrade response');
  expect(response.toString()).toMatch(/^HTTP\/1\.1 101 /);
  socket.pause();
  const hello = Buffer.from('{"type":"hello","role":"deaf"}');
  const mask = randomBytes(4);
  const frame = [Buffer.from([0x81, 0x80 | hello.length]), mask, hello.map((byte, i) => byte ^ mask[i % 4]!)];
  socket.write(Buffer.concat(frame));
  return (await joined).peerId;
}

describe('SignallingServer shutdown', () => {
  it('does not wait forever for a peer that ignores the close handshake', async () => {
    const server = await startServer({ heartbeatMs: 0 });
    const deafId = await registerDeafPeer(server);
    const left = serverEvent(server, 'peerleft');
    await within(server.close(), 'server.close()');
    expect(await left).toEqual({ peerId: deafId, protocol: 'json', reason: 'server-closed' });
  });
});

describe('SignallingClient', () => {
  async function connectedClient(url: string, options: Parameters<SignallingClient['connect']>[1] = {}) {
    const client = new SignallingClient();
    cleanups.push(() => client.close());
    const id = await client.connect(url, options);
    return { client, id };
  }

  it('connects, lists peers, runs a session and relays SDP and ICE', async () => {
    const server = await startServer();
    const alice = await connectedClient(server.url, { role: 'sender', meta: { tracks: 2 } });
    expect(alice.client.peerId).toBe(alice.id);
    expect(alice.client.limits?.maxMessageBytes).toBe(65536);
    const joined = nextEvent(alice.client, 'peerjoined');
    const bob = await connectedClient(server.url, { role: 'receiver' });
    expect(await joined).toEqual([{ peerId: bob.id, role: 'receiver' }]);

    const peersEvent = nextEvent(bob.client, 'peers');
    expect(await bob.client.listPeers()).toEqual([{ peerId: alice.id, role: 'sender', meta: { tracks: 2 } }]);
    expect((await peersEvent)[0]).toHaveLength(1);

    const incoming = nextEvent(alice.client, 'session');
    const session = await bob.client.startSession(alice.id);
    expect(session).toMatchObject({ peerId: alice.id, initiator: true });
    expect(await incoming).toEqual([{ sessionId: session.sessionId, peerId: bob.id, initiator: false }]);
    expect(alice.client.sessions).toHaveLength(1);

    const sdp = nextEvent(alice.client, 'sdp');
    bob.client.sendSdp(session.sessionId, OFFER);
    expect(await sdp).toEqual([session.sessionId, OFFER, bob.id]);
    const ice = nextEvent(bob.client, 'ice');
    alice.client.send(session.sessionId, { type: 'ice', candidate: CANDIDATE });
    expect(await ice).toEqual([session.sessionId, CANDIDATE, alice.id]);
    const endOfCandidates = nextEvent(bob.client, 'ice');
    alice.client.sendIce(session.sessionId, null);
    expect(await endOfCandidates).toEqual([session.sessionId, null, alice.id]);

    const aliceEnded = nextEvent(alice.client, 'sessionended');
    const bobEnded = nextEvent(bob.client, 'sessionended');
    await alice.client.endSession(session.sessionId);
    expect(await aliceEnded).toEqual([session.sessionId, 'ended']);
    expect(await bobEnded).toEqual([session.sessionId, 'ended']);
    expect(bob.client.sessions).toEqual([]);
  });

  it('rejects failed requests with the server error code and reports unsolicited errors', async () => {
    const server = await startServer();
    const { client } = await connectedClient(server.url);
    await expect(client.startSession('nobody')).rejects.toMatchObject({ code: 'unknown-peer', requestType: 'session-start' });
    await expect(client.endSession('s-nope')).rejects.toMatchObject({ code: 'unknown-session' });
    const error = nextEvent(client, 'error');
    client.sendIce('s-nope', null);
    expect((await error)[0]).toMatchObject({ code: 'unknown-session', requestType: 'session-message' });
    expect(() => client.send('s', { type: 'sdp', sdp: { type: 'nope', sdp: '' } } as never)).toThrow(TypeError);
    await expect(client.connect(server.url)).rejects.toThrow(/once/);
  });

  it('rejects connect() when the server refuses its hello, and closes the socket', async () => {
    const server = await startServer();
    const client = new SignallingClient();
    const left = serverEvent(server, 'peerleft');
    const closed = nextEvent(client, 'close');
    await expect(client.connect(server.url, { role: 'r'.repeat(500) })).rejects.toMatchObject({
      code: 'invalid-message',
      requestType: 'hello',
    });
    await closed;
    expect(await left).toMatchObject({ reason: 'disconnected' });
    expect(client.connected).toBe(false);
    expect(server.peers).toEqual([]);
  });

  it('closes idempotently, ends its sessions as disconnected and leaves the server', async () => {
    const server = await startServer();
    const a = await connectedClient(server.url);
    const b = await connectedClient(server.url);
    const session = await a.client.startSession(b.id);
    const closed = nextEvent(a.client, 'close');
    const ended = nextEvent(a.client, 'sessionended');
    const remoteEnded = nextEvent(b.client, 'sessionended');
    const left = serverEvent(server, 'peerleft');
    const first = a.client.close();
    expect(a.client.close()).toBe(first);
    await first;
    expect((await closed)[0]).toBe(1000);
    expect(await ended).toEqual([session.sessionId, 'disconnected']);
    expect(await remoteEnded).toEqual([session.sessionId, 'peer-left']);
    expect(await left).toMatchObject({ peerId: a.id, reason: 'disconnected' });
    expect(a.client.connected).toBe(false);
    expect(() => a.client.sendIce(session.sessionId, null)).toThrow(SignallingError);
  });

  it('emits close with 1001 when the server shuts down', async () => {
    const server = await startServer();
    const { client } = await connectedClient(server.url);
    const closed = nextEvent(client, 'close');
    await server.close();
    expect((await closed)[0]).toBe(1001);
  });
});

describe('gst-examples text protocol', () => {
  it('registers with HELLO and rejects taken, missing or spaced uids', async () => {
    const server = await startServer();
    const joined = serverEvent(server, 'peerjoined');
    await TestPeer.gst(server.url, 'alice');
    expect(await joined).toMatchObject({ peerId: 'alice', protocol: 'gst-examples' });
    expect(server.peers).toEqual(['alice']);
    const json = await TestPeer.json(server.url);
    for (const hello of ['HELLO alice', 'HELLO', 'HELLO two words', `HELLO ${json.id}`]) {
      const peer = await TestPeer.open(server.url);
      peer.send(hello);
      expect(await peer.nextText()).toMatch(/^ERROR invalid peer uid/);
      expect(await within(peer.closed, 'close')).toMatchObject({ code: 1002 });
    }
    // JSON and gst-examples peers do not see each other.
    json.peer.sendJson({ type: 'list' });
    expect(await json.peer.next()).toEqual({ type: 'peers', peers: [] });
    expect(server.peers.sort()).toEqual(['alice', json.id].sort());
  });

  it('pairs peers with SESSION and relays messages verbatim both ways', async () => {
    const server = await startServer();
    const alice = await TestPeer.gst(server.url, 'alice');
    const bob = await TestPeer.gst(server.url, 'bob');
    bob.send('SESSION nobody');
    expect(await bob.nextText()).toBe("ERROR peer 'nobody' not found");
    bob.send('SESSION bob');
    expect(await bob.nextText()).toMatch(/^ERROR/);
    const started = serverEvent(server, 'sessionstarted');
    bob.send('SESSION alice');
    expect(await bob.nextText()).toBe('SESSION_OK');
    expect(await started).toMatchObject({ initiator: 'bob', responder: 'alice', protocol: 'gst-examples' });
    bob.send('OFFER_REQUEST');
    expect(await alice.nextText()).toBe('OFFER_REQUEST');
    const offer = JSON.stringify({ sdp: OFFER });
    alice.send(offer);
    expect(await bob.nextText()).toBe(offer);
    const ice = JSON.stringify({ ice: CANDIDATE });
    bob.send(ice);
    expect(await alice.nextText()).toBe(ice);
    bob.send('ROOM anything');
    expect(await alice.nextText()).toBe('ROOM anything');

    const carol = await TestPeer.gst(server.url, 'carol');
    carol.send('SESSION alice');
    expect(await carol.nextText()).toBe("ERROR peer 'alice' busy");

    const ended = serverEvent(server, 'sessionended');
    bob.ws.close();
    // As in gst-examples, the call ends by closing the remaining peer's connection.
    expect(await within(alice.closed, 'alice closed')).toMatchObject({ code: 1000 });
    expect(await ended).toMatchObject({ initiator: 'bob', responder: 'alice', reason: 'peer-left', by: 'bob' });
    carol.send('FOO bar');
    expect(await carol.nextText()).toBe("ERROR unknown command 'FOO'");
  });

  it('runs ROOM, ROOM_PEER_MSG, ROOM_PEER_LIST, joins and leaves', async () => {
    const server = await startServer();
    const a = await TestPeer.gst(server.url, 'a');
    const b = await TestPeer.gst(server.url, 'b');
    const outsider = await TestPeer.gst(server.url, 'outsider');
    a.send('ROOM r1');
    expect(await a.nextText()).toBe('ROOM_OK ');
    b.send('ROOM r1');
    expect(await b.nextText()).toBe('ROOM_OK a');
    expect(await a.nextText()).toBe('ROOM_PEER_JOINED b');
    b.send('ROOM_PEER_MSG a {"sdp": {"type": "offer", "sdp": "v=0"}}');
    expect(await a.nextText()).toBe('ROOM_PEER_MSG b {"sdp": {"type": "offer", "sdp": "v=0"}}');
    a.send('ROOM_PEER_LIST');
    expect(await a.nextText()).toBe('ROOM_PEER_LIST b');
    a.send('ROOM_PEER_MSG ghost hi');
    expect(await a.nextText()).toBe("ERROR peer 'ghost' not found");
    a.send('ROOM_PEER_MSG outsider hi');
    expect(await a.nextText()).toBe("ERROR peer 'outsider' is not in the room");
    a.send('ROOM_PEER_MSG b');
    expect(await a.nextText()).toMatch(/^ERROR invalid ROOM_PEER_MSG/);
    a.send('SESSION b');
    expect(await a.nextText()).toBe('ERROR invalid msg, already in room');
    outsider.send('ROOM session');
    expect(await outsider.nextText()).toBe("ERROR invalid room id 'session'");
    outsider.send('ROOM two words');
    expect(await outsider.nextText()).toMatch(/^ERROR invalid room id/);
    b.ws.close();
    expect(await a.nextText()).toBe('ROOM_PEER_LEFT b');
    a.send('ROOM_PEER_LIST');
    expect(await a.nextText()).toBe('ROOM_PEER_LIST ');
  });

  it('applies the rate limit to text peers too', async () => {
    const server = await startServer({ rateLimit: { messages: 3, perSeconds: 60 } });
    const peer = await TestPeer.gst(server.url, 'flooder');
    for (let i = 0; i < 10; i++) peer.send('ROOM_PEER_LIST');
    expect(await peer.nextText()).toBe("ERROR unknown command 'ROOM_PEER_LIST'");
    expect(await peer.nextText()).toBe("ERROR unknown command 'ROOM_PEER_LIST'");
    expect(await peer.nextText()).toBe('ERROR rate limit exceeded');
    expect(await within(peer.closed, 'close')).toMatchObject({ code: 1008 });
    await expectServing(server);
  });
});

describe('documented protocol details', () => {
  it('answers plain HTTP on its own server with 426 Upgrade Required', async () => {
    const server = await startServer();
    const status = await new Promise<number | undefined>((resolve, reject) => {
      http.get(server.url.replace('ws:', 'http:'), (response) => {
        response.resume();
        resolve(response.statusCode);
      }).on('error', reject);
    });
    expect(status).toBe(426);
  });

  it('closes a connection whose first message is binary with 1003', async () => {
    const server = await startServer();
    const peer = await TestPeer.open(server.url);
    peer.send(Buffer.from([1, 2, 3]));
    expect(await within(peer.closed, 'close')).toMatchObject({ code: 1003 });
    await expectServing(server);
  });

  it('drops a registered peer that breaks the WebSocket protocol, as protocol-error', async () => {
    const server = await startServer();
    const { peer, id } = await TestPeer.json(server.url);
    const left = serverEvent(server, 'peerleft');
    // An unmasked client frame with reserved bits set.
    (peer.ws as unknown as { _socket: net.Socket })._socket.write(Buffer.from([0xf1, 0x00]));
    expect(await left).toEqual({ peerId: id, protocol: 'json', reason: 'protocol-error' });
  });

  it('relays pranswer and rollback descriptions and a candidate usernameFragment intact', async () => {
    const server = await startServer();
    const { a, b, sessionId } = await pairInSession(server.url);
    const pranswer = { type: 'pranswer', sdp: 'v=0\r\n' };
    b.peer.sendJson({ type: 'session-message', sessionId, payload: { type: 'sdp', sdp: pranswer } });
    expect(await a.peer.next()).toEqual({ type: 'session-message', sessionId, from: b.id, payload: { type: 'sdp', sdp: pranswer } });
    a.peer.sendJson({ type: 'session-message', sessionId, payload: { type: 'sdp', sdp: { type: 'rollback', sdp: '' } } });
    expect(await b.peer.next()).toMatchObject({ from: a.id, payload: { type: 'sdp', sdp: { type: 'rollback' } } });
    const candidate = { ...CANDIDATE, usernameFragment: 'Dww9' };
    a.peer.sendJson({ type: 'session-message', sessionId, payload: { type: 'ice', candidate } });
    expect(await b.peer.next()).toEqual({ type: 'session-message', sessionId, from: a.id, payload: { type: 'ice', candidate } });
  });

  it('announces disabled limits in the welcome: rateLimit null and heartbeatMs 0', async () => {
    const server = await startServer({ rateLimit: false, heartbeatMs: 0 });
    const peer = await TestPeer.open(server.url);
    peer.sendJson({ type: 'hello' });
    const welcome = await peer.expect('welcome');
    expect(welcome.limits).toMatchObject({ rateLimit: null, heartbeatMs: 0 });
    const client = new SignallingClient();
    cleanups.push(() => client.close());
    await client.connect(server.url);
    expect(client.limits).toMatchObject({ rateLimit: null, heartbeatMs: 0 });
  });

  it('reports a text peer whose session partner left as session-ended', async () => {
    const server = await startServer();
    const reasons = new Map<string, string>();
    server.on('peerleft', (event) => reasons.set(event.peerId, event.reason));
    const alice = await TestPeer.gst(server.url, 'alice');
    const bob = await TestPeer.gst(server.url, 'bob');
    alice.send('SESSION bob');
    expect(await alice.nextText()).toBe('SESSION_OK');
    alice.ws.close();
    expect(await within(bob.closed, 'bob closed')).toMatchObject({ code: 1000 });
    await until(() => reasons.has('bob') && reasons.has('alice'), 'both left');
    expect(Object.fromEntries(reasons)).toEqual({ alice: 'disconnected', bob: 'session-ended' });
  });

  it('applies the token and the heartbeat to text-protocol peers', async () => {
    const tokenServer = await startServer({ token: 'secret' });
    expect(await refusedStatus(tokenServer.url)).toBe(401);
    const allowed = await TestPeer.open(`${tokenServer.url}?token=secret`);
    allowed.send('HELLO carol');
    expect(await allowed.nextText()).toBe('HELLO');

    const server = await startServer({ heartbeatMs: 50 });
    const left = serverEvent(server, 'peerleft');
    const dead = await TestPeer.open(server.url, { autoPong: false });
    dead.send('HELLO dave');
    expect(await dead.nextText()).toBe('HELLO');
    expect(await left).toEqual({ peerId: 'dave', protocol: 'gst-examples', reason: 'heartbeat-timeout' });
  });
});

describe('SignallingClient error codes', () => {
  /** A WebSocket server that misbehaves as `behave` says once the client's hello arrives. */
  async function misbehavingServer(behave: (socket: WebSocket) => void): Promise<string> {
    const { WebSocketServer } = await import('ws');
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => new Promise((resolve) => wss.close(resolve)));
    await new Promise((resolve) => wss.once('listening', resolve));
    wss.on('connection', (socket) => {
      socket.once('message', () => behave(socket));
      cleanups.push(() => socket.terminate());
    });
    return `ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}/`;
  }
  const welcome = JSON.stringify({
    type: 'welcome',
    protocolVersion: 1,
    peerId: 'p1',
    requestId: 'r1',
    limits: { maxMessageBytes: 65536, rateLimit: null, maxSessionsPerPeer: 16, heartbeatMs: 0 },
  });
  const failure = (promise: Promise<unknown>) => promise.then(() => null, (error: unknown) => error as SignallingError);

  it('not-connected: a request before connect(), and a second connect()', async () => {
    const client = new SignallingClient();
    cleanups.push(() => client.close());
    expect((await failure(client.listPeers()))?.code).toBe('not-connected');
    const server = await startServer();
    await client.connect(server.url);
    expect((await failure(client.connect(server.url)))?.code).toBe('not-connected');
  });

  it('timeout: a server that never answers the hello', async () => {
    const url = await misbehavingServer(() => undefined);
    const client = new SignallingClient();
    cleanups.push(() => client.close());
    const error = await failure(client.connect(url, { timeoutMs: 300 }));
    expect(error?.code).toBe('timeout');
    expect(error?.message).toMatch(/no "welcome" reply to "hello" within 300 ms/);
  });

  it('connection-closed: a server that hangs up instead of answering', async () => {
    const url = await misbehavingServer((socket) => socket.close(1011, 'bye'));
    const client = new SignallingClient();
    cleanups.push(() => client.close());
    const error = await failure(client.connect(url));
    expect(error?.code).toBe('connection-closed');
    expect(error?.message).toMatch(/1011 bye/);
  });

  it('delivers each server message as its own task, as a browser does: a session that arrives in the same packet as the welcome reaches a listener attached after connect()', async () => {
    const url = await misbehavingServer((socket) => {
      const tcp = (socket as unknown as { _socket: net.Socket })._socket;
      tcp.cork(); // one write, so the client reads both messages at once
      socket.send(welcome);
      socket.send(JSON.stringify({ type: 'session-started', sessionId: 's1', peerId: 'p2', initiator: false }));
      tcp.uncork();
    });
    const client = new SignallingClient();
    cleanups.push(() => client.close());
    await client.connect(url);
    const [session] = await nextEvent(client, 'session');
    expect(session).toEqual({ sessionId: 's1', peerId: 'p2', initiator: false });
  });

  it('bad-server-message and socket-error, as error events after connecting', async () => {
    let serverSide: WebSocket | undefined;
    const url = await misbehavingServer((socket) => {
      serverSide = socket;
      socket.send(welcome);
    });
    const client = new SignallingClient();
    cleanups.push(() => client.close());
    const errors: SignallingError[] = [];
    client.on('error', (error) => errors.push(error));
    await client.connect(url);
    serverSide!.send('{"type":"no-such-message"}');
    serverSide!.send(Buffer.from([1, 2]), { binary: true });
    await until(() => errors.length >= 2, 'two bad-server-message errors');
    expect(errors.map((error) => error.code)).toEqual(['bad-server-message', 'bad-server-message']);
    // A frame with reserved bits set breaks the WebSocket protocol itself.
    (serverSide as unknown as { _socket: net.Socket })._socket.write(Buffer.from([0xf1, 0x00]));
    await until(() => errors.length >= 3, 'a socket-error');
    expect(errors[2].code).toBe('socket-error');
  });
});
