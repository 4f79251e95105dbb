// For the congestion tests: a receiver in a Node child process inside a network
// namespace, reached only through a veth pair whose sending side a `tc tbf`
// rate cap can shape (the kernel here has tbf, not netem). The sender stays in
// this process; media to the receiver crosses the cap, feedback returns freely.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import type { WebRtcBin } from '../../lib/index.js';
import { createNamespace, type Namespace } from './netns.js';

/** One receiver behind a link that can be capped. */
export interface CappedReceiver {
  /** Video frames the receiver has decoded so far. */
  readonly frames: number;
  /** The receiver's connection state as last reported. */
  readonly connectionState: string;
  /** Caps our side of the link (what reaches the receiver) to `bitsPerSecond`. */
  cap(bitsPerSecond: number): void;
  /** Removes the cap. */
  lift(): void;
  /** Stops the receiver and removes the namespace (and with it the link). */
  close(): void;
}

function hostDevice(namespace: Namespace): string {
  const line = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' })
    .split('\n')
    .find((entry) => entry.includes(` ${namespace.hostAddress}/`));
  const device = line?.split(/\s+/)[1];
  if (device === undefined) throw new Error(`no device holds ${namespace.hostAddress}`);
  return device;
}

/**
 * Starts a receiver in a new namespace and negotiates `sender` (the offerer)
 * with it; resolves once the receiver has decoded its first frame.
 * @param initialCapBps a cap set before the media starts, if any.
 */
export async function connectCappedReceiver(sender: WebRtcBin, initialCapBps?: number): Promise<CappedReceiver> {
  const namespace = createNamespace('gwncc');
  let child: ChildProcess | undefined;
  try {
    const device = hostDevice(namespace);
    // burst: one 20 kB bucket (a few packets at line rate); latency: how long a packet may wait in the queue before it is dropped.
    const cap = (bps: number) => execFileSync('tc', ['qdisc', 'replace', 'dev', device, 'root', 'tbf', 'rate', `${Math.round(bps / 1000)}kbit`, 'burst', '20kb', 'latency', '300ms']);
    const lift = () => execFileSync('tc', ['qdisc', 'del', 'dev', device, 'root'], { stdio: 'ignore' });
    if (initialCapBps !== undefined) cap(initialCapBps);
    const spawned = namespace.spawn(process.execPath, [join(__dirname, 'congestion-receiver.mjs')], { stdio: ['pipe', 'pipe', 'pipe'] });
    child = spawned;
    let stderr = '';
    spawned.stderr!.on('data', (chunk) => (stderr += chunk));
    const state = { frames: 0, connectionState: 'new', exited: false };
    spawned.once('exit', () => (state.exited = true));
    const send = (message: unknown) => spawned.stdin!.write(`${JSON.stringify(message)}\n`);
    sender.on('icecandidate', (candidate) => candidate !== null && send({ candidate }));
    createInterface({ input: spawned.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as { answer?: { type: 'answer'; sdp: string }; candidate?: { candidate: string; sdpMLineIndex: number }; frames?: number; connectionState?: string };
      if (message.answer !== undefined) sender.setRemoteDescription(message.answer).catch(() => undefined);
      else if (message.candidate !== undefined) sender.addIceCandidate(message.candidate).catch(() => undefined);
      else if (message.frames !== undefined) {
        state.frames = message.frames;
        state.connectionState = message.connectionState ?? state.connectionState;
      }
    });
    await sender.setLocalDescription();
    send({ offer: sender.localDescription });
    const deadline = Date.now() + 20_000;
    while (state.frames === 0) {
      if (state.exited) throw new Error(`the receiver exited: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`the receiver decoded no frame within 20 s (its state: ${state.connectionState}) ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return {
      get frames() {
        return state.frames;
      },
      get connectionState() {
        return state.connectionState;
      },
      cap,
      lift,
      close: () => {
        spawned.kill('SIGKILL');
        namespace.remove();
      },
    };
  } catch (error) {
    child?.kill('SIGKILL');
    namespace.remove();
    throw error;
  }
}
