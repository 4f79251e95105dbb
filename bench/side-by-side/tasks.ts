// The measurements of the side-by-side figure, each run by worker.ts in a fresh
// process against one stack, so that no stack inherits another's threads, heap or
// warm caches.
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { usage } from '../support/process-usage.js';
import { median, percentile } from '../support/stats.js';
import type { ChannelEnds, ConnectedPair, Stack } from './stack.js';

export type TaskName = 'connect' | 'burst' | 'throughput' | 'idle';
export const TASKS: TaskName[] = ['connect', 'burst', 'throughput', 'idle'];

/** What one task measured, by name; numbers only, NaN where nothing was measured. */
export type TaskResult = Record<string, number>;

const MiB = 1024 * 1024;
/** Message size of the throughput transfer: the most a GStreamer 1.22 data channel message can carry. */
export const MESSAGE_BYTES = 64 * 1024;
/** The sender pauses above this many buffered bytes and resumes at buffered-amount-low. */
export const HIGH_WATER = 1 * MiB;
export const LOW_WATER = 256 * 1024;
/** A gap this long between two arriving messages counts as a stall. */
export const STALL_MS = 200;
/** Pairs connecting at once in the burst task. */
export const BURST_PAIRS = 20;
/** The event-loop delay monitor's sampling interval in the burst task, in milliseconds (the finest it takes). */
export const DELAY_RESOLUTION_MS = 1;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const gc = () => (globalThis as { gc?: () => void }).gc?.();

/** Sizes of each task, full or quick. */
export function settings(quick: boolean) {
  return {
    connections: quick ? 5 : 20,
    transferBytes: (quick ? 16 : 64) * MiB,
    idlePairs: quick ? 5 : 10,
    idleSettleMs: 2000,
  };
}

/** Connections one after another after a first one left out (plugin loading, key generation, JIT): p50 and p95 per kind. */
async function connect(stack: Stack, quick: boolean): Promise<TaskResult> {
  const { connections } = settings(quick);
  const result: TaskResult = {};
  for (const kind of stack.hasVideo ? (['data', 'video'] as const) : (['data'] as const)) {
    await (await stack.connect(kind)).close();
    const samples: number[] = [];
    const iceSamples: number[] = [];
    for (let i = 0; i < connections; i++) {
      const pair = await stack.connect(kind);
      samples.push(pair.connectedMs);
      iceSamples.push(pair.iceConnectedMs);
      await pair.close();
    }
    result[`${kind}P50`] = median(samples);
    result[`${kind}P95`] = percentile(samples, 95);
    result[`${kind}IceP50`] = median(iceSamples);
  }
  return result;
}

/** BURST_PAIRS data channel pairs connecting at once, each started in a task of its own, under an event-loop delay monitor. */
async function burst(stack: Stack): Promise<TaskResult> {
  await (await stack.connect('data')).close();
  const histogram = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
  const started = performance.now();
  histogram.enable();
  const pairs: Promise<ConnectedPair>[] = [];
  for (let i = 0; i < BURST_PAIRS; i++) {
    const pair = stack.connect('data');
    pair.catch(() => undefined); // awaited below
    pairs.push(pair);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const connected = await Promise.allSettled(pairs);
  const allMs = performance.now() - started;
  histogram.disable();
  for (const outcome of connected) if (outcome.status === 'fulfilled') await outcome.value.close();
  const failures = connected.filter((outcome) => outcome.status === 'rejected');
  if (failures.length > 0) throw new Error(`${failures.length} of ${BURST_PAIRS} pairs failed: ${String((failures[0] as PromiseRejectedResult).reason)}`);
  // The histogram records the whole interval between samples; the delay is what exceeds the sampling interval.
  const delay = (ns: number) => Math.max(0, ns / 1e6 - DELAY_RESOLUTION_MS);
  return { allConnectedMs: allMs, delayP50Ms: delay(histogram.percentile(50)), delayP99Ms: delay(histogram.percentile(99)), delayMaxMs: delay(histogram.max) };
}

/** One transfer over a fresh pair, timed from the first send to the last byte's arrival. */
async function throughput(stack: Stack, quick: boolean): Promise<TaskResult> {
  const { transferBytes } = settings(quick);
  const pair = await stack.connect('data');
  try {
    const ends = pair.channel!;
    ends.setLowThreshold(LOW_WATER);
    const { seconds, cpuSeconds, longestGapMs } = await transfer(ends, transferBytes);
    return { mbPerSecond: transferBytes / 1e6 / seconds, cpuMsPerMb: (1000 * cpuSeconds) / (transferBytes / 1e6), longestGapMs };
  } finally {
    await pair.close();
  }
}

async function transfer(ends: ChannelEnds, total: number): Promise<{ seconds: number; cpuSeconds: number; longestGapMs: number }> {
  const payload = Buffer.alloc(MESSAGE_BYTES, 0x5a);
  let received = 0;
  let lastArrival = performance.now();
  let longestGapMs = 0;
  const arrived = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`transfer stalled: ${received} of ${total} bytes after 60 s`)), 60_000);
    ends.receive((bytes) => {
      const now = performance.now();
      longestGapMs = Math.max(longestGapMs, now - lastArrival);
      lastArrival = now;
      received += bytes;
      if (received >= total) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  lastArrival = started;
  for (let sent = 0; sent < total; sent += MESSAGE_BYTES) {
    if (ends.bufferedAmount() > HIGH_WATER) await ends.drained();
    ends.send(payload);
  }
  await arrived;
  const cpu = process.cpuUsage(cpuBefore);
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, longestGapMs };
}

/**
 * RSS and threads of the process's first connected pair (libraries, plugins, certificates and thread pools
 * loaded for it included), then what each further connected, idle data channel pair adds.
 */
async function idle(stack: Stack, quick: boolean): Promise<TaskResult> {
  const { idlePairs, idleSettleMs } = settings(quick);
  gc();
  const start = usage();
  const first = await stack.connect('data');
  await sleep(idleSettleMs);
  gc();
  const withFirst = usage();
  await first.close();
  await sleep(idleSettleMs);
  gc();
  const before = usage();
  const pairs: ConnectedPair[] = [];
  try {
    for (let i = 0; i < idlePairs; i++) pairs.push(await stack.connect('data'));
    await sleep(idleSettleMs);
    gc();
    const after = usage();
    return {
      firstPairRssMiB: (withFirst.rssBytes - start.rssBytes) / MiB,
      firstPairThreads: withFirst.threads - start.threads,
      rssPerPairMiB: (after.rssBytes - before.rssBytes) / MiB / idlePairs,
      threadsPerPair: (after.threads - before.threads) / idlePairs,
    };
  } finally {
    for (const pair of pairs) await pair.close();
  }
}

/** Runs one task. */
export function runTask(task: TaskName, stack: Stack, quick: boolean): Promise<TaskResult> {
  switch (task) {
    case 'connect':
      return connect(stack, quick);
    case 'burst':
      return burst(stack);
    case 'throughput':
      return throughput(stack, quick);
    case 'idle':
      return idle(stack, quick);
  }
}
