// Flow control of received data channel messages: a peer that sends faster than
// a (deliberately slow) JS listener reads must not grow our memory with the
// flood. The receiver runs in a child process of its own (the sender in
// another), so its RSS is its own; see test/fixtures/fuzz/flood-receiver.cjs.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { runNode } from './support/node-child.js';

/** Documented in docs/reliability.md: RSS growth of a receiver, whatever the flood's size. */
const RSS_GROWTH_BOUND_MIB = 40;

interface FloodResult {
  received: number;
  inOrder: boolean;
  baselineMiB: number;
  peakMiB: number;
}

async function flood(mebibytes: number, msPerMessage: number, timeoutMs: number): Promise<FloodResult> {
  const receiver = join(__dirname, 'fixtures', 'fuzz', 'flood-receiver.cjs');
  const run = await runNode([receiver, String(mebibytes), String(msPerMessage)], 'the flood', timeoutMs);
  if (run.code !== 0) throw new Error(`the receiver exited with ${run.code ?? run.signal}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as FloodResult;
}

describe('data channel flood into a slow listener', () => {
  // 8 ms per 64 KiB message: the listener takes 8 MB/s, about half what the peer's SCTP
  // sends, so without flow control the backlog would grow past 100 MiB (measured: +133 MiB).
  it('128 MiB at full speed: every byte arrives in order, and RSS grows by less than the documented bound', async () => {
    const result = await flood(128, 8, 90_000);
    expect(result.received).toBe(128 * 1024 * 1024);
    expect(result.inOrder).toBe(true);
    expect(result.peakMiB - result.baselineMiB).toBeLessThan(RSS_GROWTH_BOUND_MIB);
  }, 100_000);
});
