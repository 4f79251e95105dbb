// A DNS server on a loopback address of its own that answers every query with
// REFUSED and records the names asked, plus a way to run a command whose
// /etc/resolv.conf points at it (a private mount namespace: the rest of the
// machine keeps its resolver). Used to prove that nothing goes to DNS.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeResolver {
  /** 127.x.y.z, port 53. */
  address: string;
  /** The names queried so far, in order. */
  queries: string[];
  /** Spawns `command` (through `sh -c`) with /etc/resolv.conf naming only this resolver. */
  spawnWith(command: string[], options?: { env?: NodeJS.ProcessEnv }): ChildProcess;
  close(): void;
}

/** The question name of a DNS message, or null when it does not parse. */
function questionName(message: Buffer): string | null {
  if (message.length < 17) return null;
  const labels: string[] = [];
  let offset = 12;
  while (offset < message.length) {
    const length = message[offset];
    if (length === 0) return labels.join('.');
    if (length > 63 || offset + 1 + length > message.length) return null;
    labels.push(message.subarray(offset + 1, offset + 1 + length).toString('latin1'));
    offset += 1 + length;
  }
  return null;
}

export async function startFakeResolver(): Promise<FakeResolver> {
  const address = `127.53.${randomInt(0, 255)}.${randomInt(1, 255)}`;
  const socket: Socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (message, peer) => {
    const name = questionName(message);
    if (name !== null) queries.push(name);
    if (message.length < 12) return;
    const reply = Buffer.from(message);
    reply[2] = 0x80 | (message[2] & 0x79); // a response, same opcode and RD
    reply[3] = 0x05; // REFUSED
    socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => socket.once('error', reject).bind(53, address, resolve));
  const directory = mkdtempSync(join(tmpdir(), 'gst-webrtc-node-resolver-'));
  const resolvConf = join(directory, 'resolv.conf');
  writeFileSync(resolvConf, `nameserver ${address}\noptions attempts:1 timeout:1\n`);
  return {
    address,
    queries,
    spawnWith(command, options = {}) {
      const script = 'mount --bind "$0" /etc/resolv.conf && exec "$@"';
      return spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, resolvConf, ...command], { stdio: 'pipe', env: options.env ?? process.env });
    },
    close() {
      socket.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
