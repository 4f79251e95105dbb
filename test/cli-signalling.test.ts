// `gst-webrtc-node signalling` as a user runs it: every documented flag, the token environment
// variable, and SIGTERM closing every session and exiting 0.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SignallingClient, SignallingError } from '../lib/index.js';
import { generateCertificate } from './support/certificate.js';
import { type CliProcess, runCli, startCli } from './support/cli.js';
import { nextEvent } from './support/wait.js';

const LISTENING = /signalling server listening on (wss?:\/\/\S+)/;
let directory: string;
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'gst-webrtc-node-cli-'));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Connects a client; resolves with it, or rejects with the SignallingError. */
async function connect(url: string, options: Parameters<SignallingClient['connect']>[1] = {}): Promise<SignallingClient> {
  const client = new SignallingClient();
  try {
    await client.connect(url, { timeoutMs: 5000, ...options });
  } catch (error) {
    await client.close();
    throw error;
  }
  return client;
}

const refusal = (promise: Promise<unknown>) => promise.then(() => null, (error: unknown) => error as SignallingError);

describe('gst-webrtc-node signalling', () => {
  it('--help lists every documented flag; a bad flag is a usage error (exit 2)', async () => {
    const help = await runCli(['signalling', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--port', '--host', '--path', '--token', '--cert', '--key', '--quiet', 'GST_WEBRTC_NODE_TOKEN']) expect(help.output).toContain(flag);
    const bad = await runCli(['signalling', '--port', 'eighty']);
    expect(bad.code).toBe(2);
    expect(bad.errors).toMatch(/invalid --port "eighty"/);
    const half = await runCli(['signalling', '--cert', 'x.pem']);
    expect(half.code).toBe(2);
    expect(half.errors).toMatch(/--cert and --key go together/);
  });

  describe('with --port 0 --host --path --token, logging', () => {
    let server: CliProcess;
    let url: string;
    beforeAll(async () => {
      // The token in the environment is overridden by --token.
      server = startCli(['signalling', '--port', '0', '--host', '127.0.0.1', '--path', '/rtc', '--token', 'flag-token'], { ...process.env, GST_WEBRTC_NODE_TOKEN: 'env-token' });
      url = LISTENING.exec(await server.line(LISTENING))![1];
    });
    afterAll(() => server.stop());

    it('listens where asked, on the path only, and requires the token', async () => {
      expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/rtc$/);
      expect(await server.line(LISTENING)).toMatch(/\(token required\)$/);
      expect((await refusal(connect(url)))?.statusCode).toBe(401);
      expect((await refusal(connect(url, { token: 'env-token' })))?.statusCode).toBe(401);
      const elsewhere = await refusal(connect(url.replace('/rtc', '/other'), { token: 'flag-token' }));
      expect(elsewhere).toBeInstanceOf(SignallingError);
      expect(elsewhere?.code).toBe('handshake-failed');
      const client = await connect(url, { token: 'flag-token' });
      expect(client.peerId).toBeTruthy();
      await client.close();
      // The token may also be given in the URL.
      const byQuery = await connect(`${url}?token=flag-token`);
      await byQuery.close();
    });

    it('logs peers and sessions; SIGTERM ends every session, closes every connection and exits 0', async () => {
      const [alice, bob] = [await connect(url, { token: 'flag-token', role: 'alice' }), await connect(url, { token: 'flag-token', role: 'bob' })];
      const seen = nextEvent(bob, 'session');
      const session = await alice.startSession(bob.peerId!);
      await seen;
      await server.line(new RegExp(`session ${session.sessionId}: ${alice.peerId} -> ${bob.peerId}`));
      expect(server.output.some((line) => line.includes(`peer joined: ${alice.peerId}`) && line.includes('alice'))).toBe(true);

      const ended = [nextEvent(alice, 'sessionended'), nextEvent(bob, 'sessionended')];
      const closed = [nextEvent<[number, string]>(alice, 'close'), nextEvent<[number, string]>(bob, 'close')];
      expect(await server.stop()).toBe(0);
      for (const [sessionId] of await Promise.all(ended)) expect(sessionId).toBe(session.sessionId);
      for (const [code] of await Promise.all(closed)) expect(code).toBe(1001); // going away
      expect(server.output).toContain('SIGTERM: shutting down');
      await Promise.all([alice.close(), bob.close()]);
    });
  });

  it('takes the token from GST_WEBRTC_NODE_TOKEN, serves wss:// with --cert/--key, and --quiet logs no peers', async () => {
    const { certPath, keyPath } = generateCertificate(directory, ['127.0.0.1', 'localhost']);
    const server = startCli(['signalling', '--port', '0', '--cert', certPath, '--key', keyPath, '--quiet'], { ...process.env, GST_WEBRTC_NODE_TOKEN: 'env-token' });
    try {
      const url = LISTENING.exec(await server.line(LISTENING))![1];
      expect(url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/$/); // --host defaults to 127.0.0.1
      const ca = readFileSync(certPath);
      expect((await refusal(connect(url, { ca })))?.statusCode).toBe(401);
      // Without trusting the generated certificate, TLS itself fails.
      expect((await refusal(connect(url, { token: 'env-token' })))?.code).toBe('handshake-failed');
      const client = await connect(url, { token: 'env-token', ca });
      expect(client.peerId).toBeTruthy();
      await client.close();
      // The welcome went out, so the peer had joined: with --quiet nothing is logged about it.
      expect(server.output.filter((line) => /peer (joined|left)/.test(line))).toEqual([]);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('answers plain HTTP with 426 Upgrade Required', async () => {
    const server = startCli(['signalling', '--port', '0', '--quiet']);
    try {
      const url = new URL(LISTENING.exec(await server.line(LISTENING))![1].replace('ws:', 'http:'));
      const status = await new Promise<number | undefined>((resolve, reject) => {
        httpRequest(url, (response) => {
          response.resume();
          resolve(response.statusCode);
        }).on('error', reject).end();
      });
      expect(status).toBe(426);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
