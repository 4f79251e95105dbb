// Figure 7: this library side by side with libwebrtc (@roamhq/wrtc), libdatachannel
// (node-datachannel) and werift, measured in the same run: time to connected,
// event-loop delay while 20 pairs connect at once, data channel throughput and
// CPU per MB, idle cost per pair. Every measurement runs in a fresh process
// (bench/side-by-side/worker.ts), and the stacks take turns run by run.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Column, Figure, FigureOptions, Row } from './support/figure.js';
import { median, round } from './support/stats.js';
import type { StackId } from './side-by-side/stack.js';
import { BURST_PAIRS, DELAY_RESOLUTION_MS, HIGH_WATER, LOW_WATER, MESSAGE_BYTES, settings, STALL_MS, TASKS, type TaskName, type TaskResult } from './side-by-side/tasks.js';

const ROOT = join(__dirname, '..');
const VITE_NODE = join(ROOT, 'node_modules/vite-node/vite-node.mjs');
const WORKER = join(ROOT, 'bench/side-by-side/worker.ts');
const WORKER_TIMEOUT_MS = 120_000;

/** The stacks in the table's order; the first is this library, the next two are the ratios' references. */
const STACK_IDS: StackId[] = ['gst-webrtc-node', 'wrtc', 'node-datachannel', 'werift'];
const SHORT: Record<StackId, string> = { 'gst-webrtc-node': 'this library', wrtc: 'libwebrtc', 'node-datachannel': 'libdatachannel', werift: 'werift' };

interface Run {
  stack: StackId;
  task: TaskName;
  round: number;
  label?: string;
  measured?: TaskResult;
  error?: string;
}

function runWorker(stack: StackId, task: TaskName, quick: boolean, scratch: string, round: number): Promise<Run> {
  const resultFile = join(scratch, `${stack}-${task}-${round}.json`);
  const args = ['--expose-gc', VITE_NODE, WORKER, `--stack=${stack}`, `--task=${task}`, `--result=${resultFile}`, ...(quick ? ['--quick'] : [])];
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && existsSync(resultFile)) {
        const { label, measured } = JSON.parse(readFileSync(resultFile, 'utf8')) as { label: string; measured: TaskResult };
        done({ stack, task, round, label, measured });
        return;
      }
      const reason = stderr.split('\n').find((line) => line.includes(' failed: ')) ?? `exited with ${signal ?? code}`;
      done({ stack, task, round, error: reason.trim() });
    });
  });
}

/** A metric of the table: which task measures it, under which key, and how runs combine. */
interface Metric {
  label: string;
  task: TaskName;
  key: string;
  /** Combines one stack's runs; the median unless given. */
  combine?: (values: number[]) => number;
  digits: number;
  /** Ratios are this library's value over the reference's; `higher` marks metrics where more is better. */
  better: 'lower' | 'higher';
}

const METRICS: Metric[] = [
  { label: 'Data channel: connected p50 (ms)', task: 'connect', key: 'dataP50', digits: 1, better: 'lower' },
  { label: 'Data channel: connected p95 (ms)', task: 'connect', key: 'dataP95', digits: 1, better: 'lower' },
  { label: 'Data channel: ICE connected p50 (ms)', task: 'connect', key: 'dataIceP50', digits: 1, better: 'lower' },
  { label: 'Video: connected p50 (ms)', task: 'connect', key: 'videoP50', digits: 1, better: 'lower' },
  { label: `${BURST_PAIRS} pairs at once: all connected (ms)`, task: 'burst', key: 'allConnectedMs', digits: 0, better: 'lower' },
  { label: `${BURST_PAIRS} pairs at once: event-loop delay p50 (ms)`, task: 'burst', key: 'delayP50Ms', digits: 2, better: 'lower' },
  { label: `${BURST_PAIRS} pairs at once: event-loop delay p99 (ms)`, task: 'burst', key: 'delayP99Ms', digits: 1, better: 'lower' },
  { label: 'Data channel throughput (MB/s)', task: 'throughput', key: 'mbPerSecond', digits: 1, better: 'higher' },
  { label: 'CPU per MB moved (ms)', task: 'throughput', key: 'cpuMsPerMb', digits: 1, better: 'lower' },
  {
    label: `Transfers with a stall ≥ ${STALL_MS} ms`,
    task: 'throughput',
    key: 'longestGapMs',
    combine: (gaps) => gaps.filter((gap) => gap >= STALL_MS).length,
    digits: 0,
    better: 'lower',
  },
  { label: 'First connected pair of a process: RSS (MiB)', task: 'idle', key: 'firstPairRssMiB', digits: 1, better: 'lower' },
  { label: 'First connected pair of a process: threads', task: 'idle', key: 'firstPairThreads', digits: 0, better: 'lower' },
  { label: 'Each further idle connected pair: RSS (MiB)', task: 'idle', key: 'rssPerPairMiB', digits: 2, better: 'lower' },
  { label: 'Each further idle connected pair: threads', task: 'idle', key: 'threadsPerPair', digits: 1, better: 'lower' },
];

function value(runs: Run[], stack: StackId, metric: Metric): number | null {
  const values = runs
    .filter((run) => run.stack === stack && run.task === metric.task && run.measured !== undefined)
    .map((run) => run.measured![metric.key])
    .filter((measured) => typeof measured === 'number' && !Number.isNaN(measured));
  if (values.length === 0) return null;
  return (metric.combine ?? median)(values);
}

function ratio(ours: number | null, reference: number | null, digits = 2): number | null {
  if (ours === null || reference === null || reference === 0) return null;
  return round(ours / reference, digits);
}

/** Figure 7. */
export async function sideBySide({ quick, log }: FigureOptions): Promise<Figure> {
  const rounds = quick ? 1 : 3;
  const runs: Run[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'gst-webrtc-node-side-by-side-'));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const task of TASKS) {
        // Each round starts with the next stack, so none always runs first (or right after the heaviest).
        const order = STACK_IDS.map((_, i) => STACK_IDS[(i + round) % STACK_IDS.length]);
        for (const stack of order) {
          const run = await runWorker(stack, task, quick, scratch, round);
          runs.push(run);
          log(`  round ${round + 1}/${rounds} ${task} ${stack}: ${run.error ?? JSON.stringify(run.measured, (_, v: unknown) => (typeof v === 'number' ? round2(v) : v))}`);
        }
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const labels = Object.fromEntries(STACK_IDS.map((stack) => [stack, runs.find((run) => run.stack === stack && run.label !== undefined)?.label ?? stack]));
  const rows: Row[] = METRICS.map((metric) => {
    const values = Object.fromEntries(STACK_IDS.map((stack) => [stack, value(runs, stack, metric)])) as Record<StackId, number | null>;
    return {
      measure: metric.label,
      ...Object.fromEntries(STACK_IDS.map((stack) => [stack, values[stack] === null ? null : round(values[stack]!, metric.digits)])),
      vsLibwebrtc: metric.combine === undefined ? ratio(values['gst-webrtc-node'], values.wrtc) : null,
      vsLibdatachannel: metric.combine === undefined ? ratio(values['gst-webrtc-node'], values['node-datachannel']) : null,
    };
  });
  const failures = runs.filter((run) => run.error !== undefined);
  const columns: Column[] = [
    { key: 'measure', label: 'Measure' },
    ...STACK_IDS.map((stack) => ({ key: stack, label: SHORT[stack] })),
    { key: 'vsLibwebrtc', label: 'this library ÷ libwebrtc' },
    { key: 'vsLibdatachannel', label: 'this library ÷ libdatachannel' },
  ];
  const cell = (measure: string, key: string) => rows.find((row) => row.measure === measure)?.[key] ?? null;
  const connected = METRICS[0].label;
  const throughputLabel = METRICS.find((metric) => metric.key === 'mbPerSecond')!.label;
  const idleRss = METRICS.find((metric) => metric.key === 'rssPerPairMiB')!.label;
  const { connections, transferBytes, idlePairs } = settings(quick);
  return {
    title: 'Side by side: libwebrtc, libdatachannel, werift',
    method:
      `Stacks: ${STACK_IDS.map((stack) => labels[stack]).join('; ')}. Every cell is measured in a fresh Node.js process that loads ` +
      `one stack and runs one task (bench/side-by-side/worker.ts); ${rounds} round(s), and in each round every task runs every stack, ` +
      `the stack that goes first rotating from round to round; a cell is the median over rounds. Two peers of the same stack in one ` +
      `process, in-process signalling with trickle ICE, each peer taking remote candidates only after its remote description; no ` +
      `STUN or TURN server, except that werift always queries one while gathering, so it gets a STUN responder on 127.0.0.1. ` +
      `Host candidates are the machine's own addresses, so all traffic stays on this machine. ` +
      `Connected: ${connections} connections one after another after one left out (the first in the process), from creating the two ` +
      `peers to both reporting connectionState "connected" (ICE and DTLS up; the "ICE connected" row stops at both ` +
      `reporting iceConnectionState "connected" or "completed", before DTLS where the stack reports it so); "data" carries one data ` +
      `channel (both ends open before the pair is ` +
      `closed), "video" one send-only video stream (this library sends a live VP8 test pattern; the others negotiate a VP8 track ` +
      `without frames). ${BURST_PAIRS} pairs at once: after one pair made and closed, ${BURST_PAIRS} data channel pairs started in ` +
      `consecutive event-loop turns, timed until all are connected, under perf_hooks.monitorEventLoopDelay (sampling every ` +
      `${DELAY_RESOLUTION_MS} ms; the delay is the recorded interval minus the sampling interval). Throughput: one ` +
      `${transferBytes / 2 ** 20} MiB one-way transfer in ${MESSAGE_BYTES / 1024} KiB binary messages on a reliable ordered channel, ` +
      `the sender pausing above ${HIGH_WATER / 2 ** 20} MiB buffered until buffered-amount-low (${LOW_WATER / 1024} KiB), timed from ` +
      `the first send to the last byte received; CPU is the process's user+system time (both ends, all threads) per MB; a stall is a ` +
      `gap of ${STALL_MS} ms or more between two arriving messages, counted over the ${rounds} transfer(s). Idle: the RSS (after a ` +
      `forced garbage collection) and threads that the process's first connected data channel pair adds, 2 s after it connected ` +
      `(everything loaded for it included: libraries, plugins, certificate, thread pools); then, with that pair closed, ` +
      `${idlePairs} connected pairs opened and left idle for 2 s, and what they add, per pair. Ratios are this library's value divided by the reference's (below 1 is ` +
      `better for times, costs and delays; above 1 is better for throughput). ` +
      (failures.length > 0 ? `Failed runs: ${failures.map((run) => `${run.stack} ${run.task}: ${run.error}`).join('; ')}.` : 'No run failed.'),
    columns,
    rows,
    runs,
    headline:
      `connected p50 ${cell(connected, 'gst-webrtc-node')} ms = ${cell(connected, 'vsLibwebrtc')}× libwebrtc, ${cell(connected, 'vsLibdatachannel')}× libdatachannel; ` +
      `data channel ${cell(throughputLabel, 'vsLibdatachannel')}× libdatachannel's throughput; ${cell(idleRss, 'gst-webrtc-node')} MiB ` +
      `each further idle pair (libwebrtc ${cell(idleRss, 'wrtc')}, libdatachannel ${cell(idleRss, 'node-datachannel')})` +
      (failures.length > 0 ? `; ${failures.length} run(s) failed` : ''),
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
