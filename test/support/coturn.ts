// A private TURN server for the tests: Debian's coturn (`turnserver`) on
// 127.0.0.1 with a random port and a static user, talking to nothing outside
// this machine (no CLI, no TLS/DTLS, no configuration file, its database in a
// temporary directory).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { IceServer } from '../../lib/index.js';

export const TURNSERVER_PATH = process.env.TURNSERVER_PATH ?? '/usr/bin/turnserver';

export interface Coturn {
  /** turn:127.0.0.1:<port> with the user and password, as an RTCIceServer. */
  iceServer: IceServer;
  port: number;
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
function stunBinding(port: number, timeoutMs: number): Promise<boolean> {
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
    socket.send(request, port, '127.0.0.1');
  });
}

/** Starts coturn on 127.0.0.1; resolves once it answers STUN. */
export async function startCoturn(): Promise<Coturn> {
  if (!existsSync(TURNSERVER_PATH)) throw new Error(`coturn is not installed at ${TURNSERVER_PATH}: apt-get install coturn`);
  const directory = mkdtempSync(join(tmpdir(), 'gst-webrtc-node-coturn-'));
  const port = await freePort();
  const relayFrom = randomInt(40_000, 59_000);
  const username = 'gst-webrtc-node';
  const credential = randomBytes(12).toString('hex');
  // prettier-ignore
  const args = [
    '-n', // no configuration file
    '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
    `--min-port=${relayFrom}`, `--max-port=${relayFrom + 200}`,
    '--lt-cred-mech', `--user=${username}:${credential}`, '--realm=gst-webrtc-node.test',
    '--no-cli', '--no-tls', '--no-dtls', '--no-tcp-relay', '--no-rfc5780', '--no-software-attribute',
    // Both peers are on this machine: their relayed addresses are loopback addresses.
    '--allow-loopback-peers', '--no-multicast-peers',
    `--userdb=${join(directory, 'turndb')}`, `--pidfile=${join(directory, 'turnserver.pid')}`,
    '--log-file=stdout', '--simple-log', ...(process.env.COTURN_VERBOSE ? ['-V'] : []), // COTURN_VERBOSE=1: log every packet
  ];
  const child: ChildProcess = spawn(TURNSERVER_PATH, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: directory });
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
  while (!(await stunBinding(port, 200))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`coturn did not start on 127.0.0.1:${port}:\n${output}`);
    }
  }
  // A plain turn: URL, as users write it: webrtcbin then reaches the server over UDP and TCP. Only TCP
  // gets through here: libnice sends from its host addresses, never from loopback, and coturn's UDP
  // sessions on 127.0.0.1 cannot answer a non-loopback address; a TCP connection to 127.0.0.1 comes
  // from 127.0.0.1. The relayed media itself is UDP, between two relayed addresses on 127.0.0.1.
  return { iceServer: { urls: `turn:127.0.0.1:${port}`, username, credential }, port, log: () => output, stop };
}
