// The signalling server's per-address limits: one address holding 1,000 idle
// connections (each sent a hello, then nothing; heartbeats keep them alive) must
// not lock everyone else out. Clients bind distinct loopback addresses
// (127.0.0.x) to be different addresses on this one machine.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';

import { SignallingServer, type SignallingServerOptions } from '../lib/signalling/server.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(options: SignallingServerOptions = {}): Promise<SignallingServer> {
  const server = new SignallingServer({ heartbeatMs: 1000, ...options });
  await server.listen();
  cleanups.push(() => server.close());
  return server;
}

type Outcome = { status: 'open'; ws: WebSocket; welcome: Record<string, unknown> } | { status: number };

/** Connects from `localAddress`, says hello and resolves with the welcome, or with the HTTP status of a refused upgrade. */
function connect(url: string, localAddress: string, options: ClientOptions = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress, ...options });
    cleanups.push(() => ws.terminate());
    const timer = setTimeout(() => reject(new Error(`no answer from the server for a client on ${localAddress}`)), 10_000);
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', room: 'r' })));
    ws.once('message', (data) => {
      clearTimeout(timer);
      resolve({ status: 'open', ws, welcome: JSON.parse(String(data)) as Record<string, unknown> });
    });
  });
}

describe('signalling server limits per client address', () => {
  it('1,000 idle connections from 127.0.0.1 get 429 past the limit, and a client from 127.0.0.2 is still served', async () => {
    const server = await startServer({ maxIdlePeersPerAddress: 50 });
    const attack: Outcome[] = [];
    // In waves, as an attacker's client would open them.
    for (let wave = 0; wave < 10; wave++) {
      attack.push(...(await Promise.all(Array.from({ length: 100 }, () => connect(server.url, '127.0.0.1')))));
    }
    const accepted = attack.filter((outcome) => outcome.status === 'open');
    const refused = attack.filter((outcome) => outcome.status === 429);
    expect(accepted.length).toBe(50);
    expect(refused.length).toBe(950);
    // The attacker's 50 stay connected (heartbeats answered), and others are served.
    const normal = await connect(server.url, '127.0.0.2');
    expect(normal.status).toBe('open');
    expect((normal as { welcome: Record<string, unknown> }).welcome).toMatchObject({ type: 'welcome' });
    expect(server.peers.length).toBe(51);
  }, 60_000);

  it('counts connections per address whether idle or not (maxConnectionsPerAddress)', async () => {
    const server = await startServer({ maxConnectionsPerAddress: 3 });
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => connect(server.url, '127.0.0.3')));
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual([429, 429, 'open', 'open', 'open']);
    expect((await connect(server.url, '127.0.0.4')).status).toBe('open');
  });

  it('X-Forwarded-For counts only when trustForwardedFor is set, and then by its last entry', async () => {
    const ignoring = await startServer({ maxConnectionsPerAddress: 1 });
    const spoofed = (address: string) => ({ headers: { 'X-Forwarded-For': address } });
    expect((await connect(ignoring.url, '127.0.0.5', spoofed('10.0.0.1'))).status).toBe('open');
    expect((await connect(ignoring.url, '127.0.0.5', spoofed('10.0.0.2'))).status).toBe(429); // same socket address

    const trusting = await startServer({ maxConnectionsPerAddress: 1, trustForwardedFor: true });
    expect((await connect(trusting.url, '127.0.0.6', spoofed('192.0.2.9, 10.0.0.1'))).status).toBe('open');
    expect((await connect(trusting.url, '127.0.0.6', spoofed('10.0.0.2'))).status).toBe('open'); // another client behind the proxy
    expect((await connect(trusting.url, '127.0.0.6', spoofed('198.51.100.7, 10.0.0.1'))).status).toBe(429); // 10.0.0.1 again
  });

  it('refuses limits that are not positive integers', () => {
    expect(() => new SignallingServer({ maxConnectionsPerAddress: 0 })).toThrow(RangeError);
    expect(() => new SignallingServer({ maxIdlePeersPerAddress: 1.5 })).toThrow(RangeError);
  });
});
