// Data channel throughput: one-way MB/s through a pair of WebRtcBins and through
// a pair of node-datachannel (libdatachannel) peers, measured in the same run on
// the same machine, both in this process over loopback ICE, DTLS and SCTP, and
// printed as a ratio. Not a test: nothing here passes or fails on a number.
//
//   npx vite-node bench/data-channel.ts [--quick]
//
// Prints a table and writes bench/results/data-channel.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';

import ndc from 'node-datachannel';

import { type DataChannel, gstreamerVersion, PeerConnector, WebRtcBin } from '../lib/index.js';
import { CandidateGate } from './support/candidate-gate.js';

const MiB = 1024 * 1024;
/** Every message carries this much: the most a GStreamer 1.22 data channel message can. */
const MESSAGE_BYTES = 64 * 1024;
/** Both senders pause above this many buffered bytes and resume at bufferedamountlow. */
const HIGH_WATER = 1 * MiB;
const LOW_WATER = 256 * 1024;
/** A stalled transfer fails the run instead of hanging it. */
const TRANSFER_TIMEOUT_MS = 60_000;
const CONNECT_TIMEOUT_MS = 20_000;
/** A gap this long between two arriving messages counts as a stall (usrsctp's RTO.min is 1 s in GStreamer, 200 ms in libdatachannel). */
const STALL_MS = 200;

/** One stack's figures. */
export interface StackThroughput {
  stack: string;
  /** Median of the runs, MB/s (10^6 bytes per second). */
  mbPerSecond: number;
  minMbPerSecond: number;
  maxMbPerSecond: number;
  /** CPU time of this process (both ends, all threads) per MB moved, median, in milliseconds. */
  cpuMsPerMb: number;
  runs: number;
  /** Runs in which no message arrived for STALL_MS or longer. */
  stalledRuns: number;
}

/** A table cell, as the bench report prints it. */
type Cell = number | string | boolean | null;

/** What runDataChannelBench resolves with: the figure's table plus the raw numbers. */
export interface Result {
  title: string;
  method: string;
  columns: { key: string; label: string }[];
  rows: Record<string, Cell>[];
  headline: string;
  /** WebRtcBin MB/s divided by node-datachannel MB/s (medians). */
  ratio: number;
  webrtcbin: StackThroughput;
  nodeDatachannel: StackThroughput;
  /** Every run, in the order they ran, MB/s. */
  samples: { stack: 'webrtcbin' | 'node-datachannel'; mbPerSecond: number; cpuMsPerMb: number; longestGapMs: number }[];
  settings: { quick: boolean; bytesPerRun: number; messageBytes: number; highWater: number; lowWater: number; runsPerStack: number };
  environment: {
    node: string;
    gstreamer: string;
    nodeDatachannel: string;
    libdatachannel: string;
    cpu: string;
    cores: number;
    /** The 1-minute load average when the run started: other work on the machine skews both stacks. */
    loadAverage: number;
    date: string;
  };
}

/** One timed transfer. */
interface Transfer {
  seconds: number;
  cpuSeconds: number;
  /** The longest time between two messages arriving: a stall (an SCTP retransmission timeout) shows here. */
  longestGapMs: number;
}

/** The sending and receiving ends of one channel, whatever the stack. */
interface ChannelEnds {
  send(message: Buffer): void;
  bufferedAmount(): number;
  /** Resolves at the next buffered-amount-low event. */
  drained(): Promise<void>;
  /** Calls `onBytes` with the size of each message received at the far end. */
  receive(onBytes: (bytes: number) => void): void;
  close(): void | Promise<void>;
}

/**
 * Sends `total` bytes in MESSAGE_BYTES messages, pausing above HIGH_WATER until
 * bufferedamountlow; times from the first send to the arrival of the last byte.
 */
async function timeTransfer(ends: ChannelEnds, total: number, payload: Buffer): Promise<Transfer> {
  let received = 0;
  let lastArrival = performance.now();
  let longestGapMs = 0;
  const arrived = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`transfer stalled: ${received} of ${total} bytes after ${TRANSFER_TIMEOUT_MS} ms`)), TRANSFER_TIMEOUT_MS);
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
    payload.writeUInt32BE(sent / MESSAGE_BYTES, 0);
    ends.send(payload);
  }
  await arrived;
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, longestGapMs };
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = CONNECT_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))),
  ]);
}

async function openWebRtcBinPair(): Promise<ChannelEnds> {
  const a = new WebRtcBin();
  const b = new WebRtcBin();
  try {
    const sender = a.createDataChannel('bench');
    const announced = new Promise<DataChannel>((resolve) => b.once('datachannel', resolve));
    const senderOpen = new Promise<void>((resolve) => sender.once('open', resolve));
    await withTimeout(PeerConnector.pair(a, b), 'WebRtcBin negotiation');
    const receiver = await withTimeout(announced, 'the datachannel event');
    await withTimeout(senderOpen, 'the WebRtcBin channel to open');
    sender.bufferedAmountLowThreshold = LOW_WATER;
    return {
      send: (message) => sender.send(message),
      bufferedAmount: () => sender.bufferedAmount,
      drained: () => new Promise((resolve) => sender.once('bufferedamountlow', resolve)),
      receive: (onBytes) => receiver.on('message', (data) => onBytes(typeof data === 'string' ? Buffer.byteLength(data) : data.length)),
      close: () => {
        a.close();
        b.close();
      },
    };
  } catch (error) {
    a.close();
    b.close();
    throw error;
  }
}

async function openNodeDatachannelPair(): Promise<ChannelEnds> {
  const a = new ndc.PeerConnection('bench-a', { iceServers: [] });
  const b = new ndc.PeerConnection('bench-b', { iceServers: [] });
  // Each side takes candidates only once its remote description is set (see CandidateGate).
  const gates = new Map<typeof a, CandidateGate<[string, string]>>();
  for (const [self, other] of [[a, b], [b, a]] as const) {
    gates.set(other, new CandidateGate(([candidate, mid]) => other.addRemoteCandidate(candidate, mid)));
    self.onLocalDescription((sdp, type) => {
      other.setRemoteDescription(sdp, type);
      gates.get(other)!.open();
    });
    self.onLocalCandidate((candidate, mid) => gates.get(other)!.candidate([candidate, mid]));
  }
  const announced = new Promise<ReturnType<typeof a.createDataChannel>>((resolve) => b.onDataChannel(resolve));
  const sender = a.createDataChannel('bench');
  const close = () => {
    sender.close();
    a.close();
    b.close();
  };
  try {
    await withTimeout(new Promise<void>((resolve) => (sender.isOpen() ? resolve() : sender.onOpen(resolve))), 'the node-datachannel channel to open');
    const receiver = await withTimeout(announced, 'the node-datachannel onDataChannel');
    let onLow: (() => void) | undefined;
    sender.setBufferedAmountLowThreshold(LOW_WATER);
    sender.onBufferedAmountLow(() => {
      const resolve = onLow;
      onLow = undefined;
      resolve?.();
    });
    return {
      send: (message) => sender.sendMessageBinary(message),
      bufferedAmount: () => sender.bufferedAmount(),
      drained: () => new Promise((resolve) => (onLow = resolve)),
      receive: (onBytes) =>
        receiver.onMessage((data) => onBytes(typeof data === 'string' ? Buffer.byteLength(data) : (data as Buffer | ArrayBuffer).byteLength)),
      close: () => {
        receiver.close();
        close();
      },
    };
  } catch (error) {
    close();
    throw error;
  }
}

async function measure(open: () => Promise<ChannelEnds>, total: number, payload: Buffer): Promise<Transfer> {
  const ends = await open();
  try {
    return await timeTransfer(ends, total, payload);
  } finally {
    await ends.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

function summarize(stack: string, samples: { mbPerSecond: number; cpuMsPerMb: number; longestGapMs: number }[]): StackThroughput {
  const rates = samples.map((sample) => sample.mbPerSecond);
  return {
    stack,
    mbPerSecond: round(median(rates)),
    minMbPerSecond: round(Math.min(...rates)),
    maxMbPerSecond: round(Math.max(...rates)),
    cpuMsPerMb: round(median(samples.map((sample) => sample.cpuMsPerMb))),
    runs: samples.length,
    stalledRuns: samples.filter((sample) => sample.longestGapMs >= STALL_MS).length,
  };
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Measures both stacks, alternating runs (WebRtcBin, node-datachannel, ...) so
 * that drift on a shared machine hits both alike. Each run connects a fresh pair,
 * then times one transfer. Quick: one 16 MiB run each; full: five 64 MiB runs each.
 */
export async function runDataChannelBench(options: { quick: boolean }): Promise<Result> {
  const total = (options.quick ? 16 : 64) * MiB;
  const runsPerStack = options.quick ? 1 : 5;
  const payload = Buffer.alloc(MESSAGE_BYTES, 0x5a);
  const loadAverage = round(loadavg()[0], 2);
  const samples: Result['samples'] = [];
  for (let run = 0; run < runsPerStack; run++) {
    for (const [stack, open] of [
      ['webrtcbin', openWebRtcBinPair],
      ['node-datachannel', openNodeDatachannelPair],
    ] as const) {
      const transfer = await measure(open, total, payload);
      samples.push({
        stack,
        mbPerSecond: total / 1e6 / transfer.seconds,
        cpuMsPerMb: (1000 * transfer.cpuSeconds) / (total / 1e6),
        longestGapMs: transfer.longestGapMs,
      });
    }
  }
  const gst = gstreamerVersion();
  const webrtcbin = summarize(`WebRtcBin (GStreamer ${gst.major}.${gst.minor}.${gst.micro})`, samples.filter((s) => s.stack === 'webrtcbin'));
  const nodeDatachannel = summarize(
    `node-datachannel ${packageVersion('node-datachannel')} (libdatachannel ${ndc.getLibraryVersion()})`,
    samples.filter((s) => s.stack === 'node-datachannel'),
  );
  const ratio = webrtcbin.mbPerSecond / nodeDatachannel.mbPerSecond;
  const columns = [
    { key: 'stack', label: 'stack' },
    { key: 'mbPerSecond', label: 'MB/s (median)' },
    { key: 'range', label: 'min–max' },
    { key: 'cpuMsPerMb', label: 'CPU ms/MB' },
    { key: 'runs', label: 'runs' },
    { key: 'stalledRuns', label: `runs with a stall ≥ ${STALL_MS} ms` },
  ];
  const rows = [webrtcbin, nodeDatachannel].map((stack) => ({
    stack: stack.stack,
    mbPerSecond: stack.mbPerSecond,
    range: `${stack.minMbPerSecond}–${stack.maxMbPerSecond}`,
    cpuMsPerMb: stack.cpuMsPerMb,
    runs: stack.runs,
    stalledRuns: stack.stalledRuns,
  }));
  return {
    title: 'Data channel throughput vs node-datachannel',
    method:
      `One-way transfer of ${total / MiB} MiB in ${MESSAGE_BYTES / 1024} KiB binary messages over one reliable ordered channel, ` +
      `between two peers in one process over loopback ICE/DTLS/SCTP; the sender pauses above ${HIGH_WATER / MiB} MiB buffered ` +
      `and resumes at bufferedamountlow (${LOW_WATER / 1024} KiB). Timed from the first send to the last byte received; ` +
      `a fresh pair per run, connection time excluded; ${runsPerStack} run(s) per stack, alternating; median reported. ` +
      `CPU is this process's user+system time (both ends, all threads) per MB. A stall is a gap of ${STALL_MS} ms or more between two ` +
      `arriving messages (an SCTP retransmission timeout).`,
    columns,
    rows,
    headline: `WebRtcBin ${webrtcbin.mbPerSecond} MB/s, node-datachannel ${nodeDatachannel.mbPerSecond} MB/s: ratio ${round(ratio, 2)}`,
    ratio: round(ratio, 3),
    webrtcbin,
    nodeDatachannel,
    samples: samples.map((sample) => ({
      ...sample,
      mbPerSecond: round(sample.mbPerSecond),
      cpuMsPerMb: round(sample.cpuMsPerMb),
      longestGapMs: Math.round(sample.longestGapMs),
    })),
    settings: { quick: options.quick, bytesPerRun: total, messageBytes: MESSAGE_BYTES, highWater: HIGH_WATER, lowWater: LOW_WATER, runsPerStack },
    environment: {
      node: process.version,
      gstreamer: `${gst.major}.${gst.minor}.${gst.micro}`,
      nodeDatachannel: packageVersion('node-datachannel'),
      libdatachannel: ndc.getLibraryVersion(),
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      loadAverage,
      date: new Date().toISOString(),
    },
  };
}

function printTable(result: Result): void {
  const cells = [result.columns.map((column) => column.label), ...result.rows.map((row) => result.columns.map((column) => String(row[column.key] ?? '')))];
  const widths = result.columns.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  for (const [i, line] of cells.entries()) {
    console.log(line.map((cell, j) => cell.padEnd(widths[j])).join('  '));
    if (i === 0) console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  }
  console.log(`\nratio WebRtcBin / node-datachannel: ${result.ratio}`);
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const result = await runDataChannelBench({ quick });
  printTable(result);
  const file = join(__dirname, 'results', 'data-channel.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written to ${file}`);
}

// A script unless the bench suite loads it (bench/run-figure.ts, which passes --figure=...).
if (!process.argv.some((argument) => argument.startsWith('--figure'))) {
  // Exit rather than wait for GStreamer's and libdatachannel's thread pools to wind down.
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
