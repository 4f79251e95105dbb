// Figure 5: does the binding keep Node's event loop responsive? p99 event-loop
// delay of the sending process while 50 viewers negotiate at once, and while
// they stream. The viewers' receiving WebRtcBins run in another process (as in
// figure 4): what is measured is the fan-out's own event loop.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

import { nativeCallStats, type NativeCallStat } from '../lib/core/native.js';
import type { Figure, FigureOptions, Row } from './support/figure.js';
import { sleep } from './support/fan-out-session.js';
import { RemoteFanOut } from './support/remote-fan-out.js';
import { round } from './support/stats.js';

/** The sampling interval of the delay monitor, in milliseconds. */
const RESOLUTION_MS = 10;

/**
 * The JS thread's scheduler counters (Linux schedstat of the main thread): time
 * on a CPU and time runnable but waiting for one, in ms. On a loaded machine the
 * second is what stalls the loop without any call blocking.
 */
function jsThreadSchedule(): { cpuMs: number; waitMs: number } {
  try {
    const [cpuNs, waitNs] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { cpuMs: cpuNs / 1e6, waitMs: waitNs / 1e6 };
  } catch {
    return { cpuMs: NaN, waitMs: NaN };
  }
}

/** The native calls made between two snapshots of nativeCallStats(): count and total are differences; max is over the whole run so far. */
function callsSince(before: NativeCallStat[]): NativeCallStat[] {
  const earlier = new Map(before.map((stat) => [stat.name, stat]));
  return nativeCallStats()
    .map((stat) => ({
      ...stat,
      count: stat.count - (earlier.get(stat.name)?.count ?? 0),
      totalMs: stat.totalMs - (earlier.get(stat.name)?.totalMs ?? 0),
      blocked: stat.blocked === undefined ? undefined : stat.blocked - (earlier.get(stat.name)?.blocked ?? 0),
    }))
    .filter((stat) => stat.count > 0)
    .sort((a, b) => b.totalMs - a.totalMs);
}

function row(
  phase: string,
  viewers: number,
  seconds: number,
  histogram: IntervalHistogram,
  calls: NativeCallStat[],
  schedule: { cpuMs: number; waitMs: number },
): Row {
  // The histogram records the whole interval between samples; the delay is what exceeds the sampling interval.
  const delayMs = (ns: number) => round(Math.max(0, ns / 1e6 - RESOLUTION_MS), 2);
  // Native methods only; `event:*` entries are event delivery, listeners included.
  const methods = calls.filter((call) => !call.name.startsWith('event:'));
  const slowest = methods.reduce<NativeCallStat | null>((worst, call) => (worst === null || call.maxMs > worst.maxMs ? call : worst), null);
  return {
    phase,
    viewers,
    seconds: round(seconds, 1),
    samples: histogram.count,
    p50Ms: delayMs(histogram.percentile(50)),
    p99Ms: delayMs(histogram.percentile(99)),
    maxMs: delayMs(histogram.max),
    nativeCalls: methods.reduce((sum, call) => sum + call.count, 0),
    nativeMs: round(methods.reduce((sum, call) => sum + call.totalMs, 0), 1),
    slowestCall: slowest === null ? null : `${slowest.name} ${round(slowest.maxMs, 2)} ms`,
    // Of the calls' own work, and of waiting: with the thread-usage sampler run-figure.ts installs.
    maxCpuMs: methods.length === 0 ? null : round(Math.max(...methods.map((call) => call.maxCpuMs ?? 0)), 2),
    blockedCalls: methods.reduce((sum, call) => sum + (call.blocked ?? 0), 0),
    longestBlockedMs: round(Math.max(0, ...methods.map((call) => call.maxBlockedMs ?? 0)), 2),
    jsCpuMs: round(schedule.cpuMs, 0),
    jsWaitMs: round(schedule.waitMs, 0),
  };
}

/** Runs `work` with a fresh delay monitor; returns the row for it, and the phase's native calls. */
async function monitored(phase: string, viewers: number, work: () => Promise<void>): Promise<{ row: Row; calls: NativeCallStat[] }> {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const before = nativeCallStats();
  const scheduleBefore = jsThreadSchedule();
  const start = performance.now();
  histogram.enable();
  try {
    await work();
  } finally {
    histogram.disable();
  }
  const calls = callsSince(before);
  const scheduleAfter = jsThreadSchedule();
  const schedule = { cpuMs: scheduleAfter.cpuMs - scheduleBefore.cpuMs, waitMs: scheduleAfter.waitMs - scheduleBefore.waitMs };
  return { row: row(phase, viewers, (performance.now() - start) / 1000, histogram, calls, schedule), calls };
}

/** Figure 5. */
export async function eventLoop({ quick, log }: FigureOptions): Promise<Figure> {
  const viewers = quick ? 5 : 50;
  const seconds = quick ? 3 : 10;
  const session = await RemoteFanOut.start();
  const rows: Row[] = [];
  const phaseCalls: Record<string, NativeCallStat[]> = {};
  const record = ({ row, calls }: { row: Row; calls: NativeCallStat[] }) => {
    rows.push(row);
    // The slowest calls of the phase, by their longest single call.
    phaseCalls[String(row.phase)] = [...calls]
      .sort((a, b) => b.maxMs - a.maxMs)
      .slice(0, 40)
      .map((call) => ({ ...call, totalMs: round(call.totalMs, 2), maxMs: round(call.maxMs, 2) }));
    log(`  ${JSON.stringify(row)}`);
  };
  try {
    await sleep(1000);
    record(await monitored('Source only, no viewers', 0, () => sleep(seconds * 1000)));
    record(await monitored(`${viewers} viewers negotiating at once`, viewers, () => session.addViewers(viewers, viewers)));
    await sleep(1000);
    record(await monitored(`${viewers} viewers streaming`, viewers, () => sleep(seconds * 1000)));
    log(`  slowest native calls while negotiating: ${JSON.stringify(phaseCalls[String(rows[1].phase)])}`);
  } finally {
    session.close();
  }
  const [, negotiating, streaming] = rows;
  return {
    title: 'Event-loop delay',
    method:
      `perf_hooks.monitorEventLoopDelay (sampling every ${RESOLUTION_MS} ms) in the sending process of figure 4's scenario: a ` +
      `MediaFanOut with no viewers for ${seconds} s; then ${viewers} viewers added at once, all ${viewers} negotiations (offer/answer, ` +
      `trickle ICE, DTLS) running concurrently, measured from the first addViewer() until every viewer has received a frame; then ` +
      `${seconds} s of those ${viewers} viewers streaming. The viewers' receiving WebRtcBins run in a child process (bench/fan-out-viewers.ts, ` +
      `signalling over IPC), on the same cores: their CPU still competes with this process's threads. Each phase has its own histogram. The delay is how much later than scheduled the ` +
      `monitor's timer ran (the recorded interval minus the ${RESOLUTION_MS} ms sampling interval), so it shows how long JS work ` +
      `(event dispatch, SDP handling, the benchmark's own polling) held the loop. With few samples (a short phase) p99 is close to the maximum. ` +
      `Every native method is timed on the JS thread (lib/core/native.ts, enableNativeCallStats): calls, their total time and the ` +
      `longest single call per phase; \`phaseCalls\` in latest.json lists each phase's slowest calls. ` +
      `The JS thread's time on a CPU and its time runnable but waiting for one come from its Linux schedstat: on a machine ` +
      `whose cores are busy, the loop stalls for the second reason without any call blocking. A sampler in the benchmarks' addon ` +
      `(getrusage per thread around each call) separates each call's own CPU time from waiting: "calls that blocked" had a voluntary ` +
      `context switch (a lock, a wait); the longest single-call and blocked-call times are wall-clock and include preemption. ` +
      `Maxima are over the whole run so far, counts per phase.`,
    columns: [
      { key: 'phase', label: 'Phase' },
      { key: 'viewers', label: 'Viewers' },
      { key: 'seconds', label: 'Duration (s)' },
      { key: 'samples', label: 'Samples' },
      { key: 'p50Ms', label: 'p50 delay (ms)' },
      { key: 'p99Ms', label: 'p99 delay (ms)' },
      { key: 'maxMs', label: 'max delay (ms)' },
      { key: 'nativeCalls', label: 'Native calls' },
      { key: 'nativeMs', label: 'JS-thread ms in them' },
      { key: 'slowestCall', label: 'Longest single call' },
      { key: 'maxCpuMs', label: 'Most CPU in one call (ms)' },
      { key: 'blockedCalls', label: 'Calls that blocked' },
      { key: 'longestBlockedMs', label: 'Longest blocked call (ms)' },
      { key: 'jsCpuMs', label: 'JS thread on CPU (ms)' },
      { key: 'jsWaitMs', label: 'JS thread waiting for a CPU (ms)' },
    ],
    rows,
    phaseCalls,
    headline: `p99 event-loop delay ${negotiating.p99Ms} ms during ${viewers} simultaneous negotiations, ${streaming.p99Ms} ms with ${viewers} viewers streaming`,
  };
}
