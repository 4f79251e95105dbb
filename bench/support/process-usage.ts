// What this process uses right now: CPU time, resident memory, threads.
import { readdirSync } from 'node:fs';

/** A snapshot of this process's resource use. */
export interface Usage {
  /** When it was taken (process.hrtime), in seconds. */
  wallSeconds: number;
  /** User plus system CPU time so far, in seconds, over all threads. */
  cpuSeconds: number;
  /** Resident set size now, in bytes. */
  rssBytes: number;
  /** Threads now (entries of /proc/self/task). */
  threads: number;
}

/** Takes a snapshot. */
export function usage(): Usage {
  const cpu = process.cpuUsage();
  return {
    wallSeconds: Number(process.hrtime.bigint()) / 1e9,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rssBytes: process.memoryUsage.rss(),
    threads: readdirSync('/proc/self/task').length,
  };
}

/** CPU used between two snapshots as a percentage of one core. */
export function cpuPercent(from: Usage, to: Usage): number {
  return (100 * (to.cpuSeconds - from.cpuSeconds)) / (to.wallSeconds - from.wallSeconds);
}

/** Nanoseconds on CLOCK_MONOTONIC, the clock GStreamer's system clock and LatencyProbe use. */
export function monotonicNs(): number {
  return Number(process.hrtime.bigint());
}
