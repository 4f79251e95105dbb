// A real bottleneck between this process's network namespace (the host side)
// and a namespace of its own (the remote side), for tests and the network bench.
//
//   host stack ── tun h ──┐                        ┌── tun r ── remote namespace's stack
//     (tbf: host→remote)  └── shaped-link-relay.py ┘  (tbf: remote→host)
//                             drops `loss`, holds `rttMs / 2` each way
//
// This kernel has `tbf` but no netem: the rate cap is tbf on each tun's egress
// (changeable mid-stream), loss and delay come from the relay, a userspace
// process that bridges the two tun devices. There is no veth pair, so the relay
// is the only path between the sides. The tun devices vanish with the relay;
// close() ends it and removes the namespace, and netns.ts's exit hook and orphan
// sweep remove namespaces left by a process that died.
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { CHROMIUM_PATH } from './chromium.js';
import { createNamespace, type Namespace } from './netns.js';

const RELAY = join(__dirname, 'shaped-link-relay.py');

/** How the link behaves; every field can also be changed while media flows. */
export interface LinkConditions {
  /** Rate cap in bit/s for each direction; 0 or absent: no cap. */
  rate?: number;
  /** Fraction of packets dropped at random, each direction (0.02 = 2%). */
  loss?: number;
  /** Round-trip time added to the link, in ms (half each way). */
  rttMs?: number;
}

export interface ShapedLinkOptions extends LinkConditions {
  /** Seed for the relay's random drops, so that a run repeats (default 1). */
  seed?: number;
  /** Bottleneck queue of the cap, in ms of traffic at the cap rate (tbf `latency`; default 100). */
  queueMs?: number;
}

/** Packets counted on the link since it was made. */
export interface LinkCounts {
  /** Packets the relay passed on. */
  forwarded: number;
  /** Packets the relay dropped (the random loss). */
  dropped: number;
  /** Packets the rate cap dropped (tbf's queue was full), both directions. */
  capDropped: number;
}

export interface ShapedLink {
  /** The remote side's namespace; `namespace.address` is its address, `namespace.hostAddress` ours. */
  namespace: Namespace;
  /** An executable that runs Chromium inside the remote namespace (for launchChromium's executablePath). */
  chromiumExecutable: string;
  /** Changes the rate cap (bit/s, both directions; 0: no cap). */
  setRate(rate: number): void;
  /** Changes the random loss (fraction, both directions). */
  setLoss(loss: number): void;
  /** Changes the added round-trip time (ms). */
  setRtt(rttMs: number): void;
  counts(): Promise<LinkCounts>;
  /** Ends the relay, removes the namespace and the wrapper; idempotent. */
  close(): Promise<void>;
}

const liveRelays = new Set<ChildProcessWithoutNullStreams>();
const liveWrappers = new Set<string>();
process.once('exit', () => {
  for (const relay of liveRelays) relay.kill('SIGKILL');
  for (const directory of liveWrappers) rmSync(directory, { recursive: true, force: true });
});

/** tbf arguments for a cap: a bucket of a few packets (at least one timer tick of traffic), a queue of `queueMs`. */
function tbf(rate: number, queueMs: number): string[] {
  const burst = Math.max(4 * 1514, Math.ceil(rate / 8 / 100));
  return ['tbf', 'rate', `${Math.round(rate)}bit`, 'burst', String(burst), 'latency', `${queueMs}ms`];
}

/** Makes the link; throws (leaving nothing behind) when namespaces or tun devices cannot be made here. */
export async function createShapedLink(options: ShapedLinkOptions = {}): Promise<ShapedLink> {
  const namespace = createNamespace('gwl', { veth: false });
  const id = namespace.name.slice(-6);
  const [hostTun, remoteTun] = [`gwl${id}h`, `gwl${id}r`];
  const queueMs = options.queueMs ?? 100;
  const wrapperDirectory = mkdtempSync(join(tmpdir(), 'gst-webrtc-node-link-'));
  liveWrappers.add(wrapperDirectory);
  const chromiumExecutable = join(wrapperDirectory, 'chromium-in-namespace');
  const relay = spawn('python3', ['-u', RELAY, hostTun, remoteTun, String(options.seed ?? 1)], { stdio: ['pipe', 'pipe', 'pipe'] });
  liveRelays.add(relay);
  let relayErrors = '';
  relay.stderr.on('data', (chunk: Buffer) => (relayErrors += chunk.toString()));
  const lines = createInterface({ input: relay.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const nextLine = (what: string) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the link relay did not answer ${what} within 5 s: ${relayErrors}`)), 5000);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    if (relay.exitCode === null && relay.signalCode === null) {
      const exited = once(relay, 'exit');
      relay.stdin.end();
      const timer = setTimeout(() => relay.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    liveRelays.delete(relay);
    namespace.remove();
    rmSync(wrapperDirectory, { recursive: true, force: true });
    liveWrappers.delete(wrapperDirectory);
  };

  try {
    const ready = await Promise.race([nextLine('ready'), once(relay, 'exit').then(() => `exited: ${relayErrors}`)]);
    if (ready !== 'ready') throw new Error(`the link relay did not start: ${ready}`);
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    ip('link', 'set', remoteTun, 'netns', namespace.name);
    ip('addr', 'add', `${namespace.hostAddress}/24`, 'dev', hostTun);
    ip('link', 'set', hostTun, 'up');
    ip('-n', namespace.name, 'addr', 'add', `${namespace.address}/24`, 'dev', remoteTun);
    ip('-n', namespace.name, 'link', 'set', remoteTun, 'up');
    // A process started in a fresh namespace may see only lo until something has listed its links.
    ip('-n', namespace.name, 'link', 'show');
    writeFileSync(chromiumExecutable, `#!/bin/sh\nexec ip netns exec ${namespace.name} ${CHROMIUM_PATH} "$@"\n`);
    chmodSync(chromiumExecutable, 0o755);
  } catch (error) {
    await close();
    throw error;
  }

  const tc = (args: string[], inNamespace: boolean) => execFileSync(inNamespace ? 'ip' : 'tc', inNamespace ? ['netns', 'exec', namespace.name, 'tc', ...args] : args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const shape = (device: string, inNamespace: boolean, rate: number) => {
    if (rate > 0) tc(['qdisc', 'replace', 'dev', device, 'root', ...tbf(rate, queueMs)], inNamespace);
    else {
      try {
        tc(['qdisc', 'del', 'dev', device, 'root'], inNamespace);
      } catch {
        // no cap to remove
      }
    }
  };
  const command = (line: string) => {
    if (!closed) relay.stdin.write(`${line}\n`);
  };
  const link: ShapedLink = {
    namespace,
    chromiumExecutable,
    setRate(rate) {
      shape(hostTun, false, rate);
      shape(remoteTun, true, rate);
    },
    setLoss: (loss) => command(`loss ${loss}`),
    setRtt: (rttMs) => command(`delay ${rttMs / 2}`),
    async counts() {
      const answer = nextLine('stats');
      command('stats');
      const [, forwarded, dropped] = (await answer).split(' ').map(Number);
      const qdiscDrops = (output: string) => Number(/dropped (\d+)/.exec(output)?.[1] ?? 0);
      const capDropped =
        qdiscDrops(tc(['-s', 'qdisc', 'show', 'dev', hostTun], false).toString()) + qdiscDrops(tc(['-s', 'qdisc', 'show', 'dev', remoteTun], true).toString());
      return { forwarded, dropped, capDropped };
    },
    close,
  };
  try {
    if (options.rate) link.setRate(options.rate);
    if (options.loss) link.setLoss(options.loss);
    if (options.rttMs) link.setRtt(options.rttMs);
  } catch (error) {
    await close();
    throw error;
  }
  return link;
}
