// A private TURN server for the tests: Debian's coturn (`turnserver`) with a
// static user, talking to nothing outside this machine (no CLI, no
// configuration file, its database in a temporary directory). Either on
// 127.0.0.1 with a random port (TCP only reaches it there, see below), or
// inside a network namespace of the test's own (test/support/netns.ts) on the
// standard ports, where UDP, TCP and TLS all reach it; there it also gets a TLS
// certificate generated for the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { IceServer } from '../../lib/index.js';
import { generateCertificate } from './certificate.js';
import type { Namespace } from './netns.js';

export const TURNSERVER_PATH = process.env.TURNSERVER_PATH ?? '/usr/bin/turnserver';

export interface Coturn {
  /** turn:127.0.0.1:<port> with the user and password, as an RTCIceServer. */
  iceServer: IceServer;
  port: number;
  /** The address coturn listens and relays on. */
  address: string;
  /** In a namespace: the same user on each transport (UDP, TCP, and TLS on the TLS port). */
  iceServers?: { udp: IceServer; tcp: IceServer; tls: IceServer };
  /** What coturn logged, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** A port free for both TCP and UDP on 127.0.0.1 (when asked; coturn binds it right after). */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    await new Promise((resolve) => server.close(resolve));
    if (udpFree) return port;
  }
  throw new Error('found no port free for both TCP and UDP on 127.0.0.1');
}

/** Resolves once a STUN binding request to the port gets a success response. */
function stunBinding(port: number, timeoutMs: number, address = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0); // Binding request, no attributes
    request.writeUInt32BE(0x2112a442, 4); // magic cookie
    randomBytes(12).copy(request, 8);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('message', (message) => finish(message.readUInt16BE(0) === 0x0101 && message.subarray(8, 20).equals(request.subarray(8, 20))));
    socket.on('error', () => finish(false));
    socket.send(request, port, address);
  });
}

/**
 * Starts coturn; resolves once it answers STUN. Without a namespace: on 127.0.0.1, TCP and UDP only.
 * In `namespace`: on its address, ports 3478 (UDP, TCP) and 5349 (TLS), with a fresh certificate.
 */
export async function startCoturn(options: { namespace?: Namespace } = {}): Promise<Coturn> {
  if (!existsSync(TURNSERVER_PATH)) throw new Error(`coturn is not installed at ${TURNSERVER_PATH}: apt-get install coturn`);
  const { namespace } = options;
  const directory = mkdtempSync(join(tmpdir(), 'gst-webrtc-node-coturn-'));
  const address = namespace?.address ?? '127.0.0.1';
  const port = namespace === undefined ? await freePort() : 3478;
  const tlsPort = 5349;
  const relayFrom = randomInt(40_000, 59_000);
  const username = 'gst-webrtc-node';
  const credential = randomBytes(12).toString('hex');
  let transportArgs = ['--no-tls', '--no-dtls'];
  if (namespace !== undefined) {
    const { certPath: cert, keyPath: key } = generateCertificate(directory, [address], 'turn');
    transportArgs = [`--tls-listening-port=${tlsPort}`, `--cert=${cert}`, `--pkey=${key}`, '--no-dtls'];
  }
  // prettier-ignore
  const args = [
    '-n', // no configuration file
    `--listening-ip=${address}`, `--relay-ip=${address}`, `--listening-port=${port}`, ...transportArgs,
    `--min-port=${relayFrom}`, `--max-port=${relayFrom + 200}`,
    '--lt-cred-mech', `--user=${username}:${credential}`, '--realm=gst-webrtc-node.test',
    '--no-cli', '--no-tcp-relay', '--no-rfc5780', '--no-software-attribute',
    // Both peers are on this machine: their relayed addresses are loopback addresses.
    '--allow-loopback-peers', '--no-multicast-peers',
    `--userdb=${join(directory, 'turndb')}`, `--pidfile=${join(directory, 'turnserver.pid')}`,
    '--log-file=stdout', '--simple-log', ...(process.env.COTURN_VERBOSE ? ['-V'] : namespace !== undefined ? ['-v'] : []), // COTURN_VERBOSE=1: log every packet
  ];
  const spawnOptions = { stdio: ['ignore', 'pipe', 'pipe'] as ('ignore' | 'pipe')[], cwd: directory };
  const child: ChildProcess = namespace === undefined ? spawn(TURNSERVER_PATH, args, spawnOptions) : namespace.spawn(TURNSERVER_PATH, args, spawnOptions);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (output += text));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    rmSync(directory, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await stunBinding(port, 200, address))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`coturn did not start on ${address}:${port}:\n${output}`);
    }
  }
  // A plain turn: URL, as users write it: webrtcbin then reaches the server over UDP and TCP. Only TCP
  // gets through here: libnice sends from its host addresses, never from loopback, and coturn's UDP
  // sessions on 127.0.0.1 cannot answer a non-loopback address; a TCP connection to 127.0.0.1 comes
  // from 127.0.0.1. The relayed media itself is UDP, between two relayed addresses on 127.0.0.1.
  if (namespace !== undefined) {
    const iceServers = {
      udp: { urls: `turn:${address}:${port}?transport=udp`, username, credential },
      tcp: { urls: `turn:${address}:${port}?transport=tcp`, username, credential },
      tls: { urls: `turns:${address}:${tlsPort}`, username, credential },
    };
    return { iceServer: { urls: `turn:${address}:${port}`, username, credential }, iceServers, port, address, log: () => output, stop };
  }
  return { iceServer: { urls: `turn:127.0.0.1:${port}`, username, credential }, port, address, log: () => output, stop };
}
