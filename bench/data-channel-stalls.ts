// Where a WebRtcBin data channel stalls: 10 transfers per stack (WebRtcBin and
// node-datachannel, alternating, a fresh pair each), each with its longest gap
// between two arriving messages, the UDP datagrams the kernel dropped on this
// process's own sockets meanwhile (the `drops` column of /proc/self/net/udp and
// udp6), and its system-wide counts of datagrams dropped for a full socket
// buffer (/proc/net/snmp and /proc/net/snmp6, IPv4 and IPv6: the whole network
// namespace, so other work on the machine adds to them).
// See docs/benchmarks-data-channel.md.
//
//   npx vite-node bench/data-channel-stalls.ts [--runs=10] [--mib=16]
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { gstWebrtcNode } from './side-by-side/gst-webrtc-node.js';
import { nodeDatachannel } from './side-by-side/node-datachannel.js';
import type { Stack } from './side-by-side/stack.js';
import { HIGH_WATER, LOW_WATER, MESSAGE_BYTES, STALL_MS } from './side-by-side/tasks.js';
import { median, round } from './support/stats.js';

/** The kernel's counts of UDP datagrams (IPv4 and IPv6) dropped because a socket's receive or send buffer was full. */
function udpBufferErrors(): { receive: number; send: number } {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((line) => line.startsWith('Udp:'));
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  const v6 = new Map(
    readFileSync('/proc/net/snmp6', 'utf8')
      .split('\n')
      .map((line) => line.split(/\s+/))
      .map(([name, value]) => [name, Number(value)] as const),
  );
  return {
    receive: Number(values[names.indexOf('RcvbufErrors')]) + (v6.get('Udp6RcvbufErrors') ?? 0),
    send: Number(values[names.indexOf('SndbufErrors')]) + (v6.get('Udp6SndbufErrors') ?? 0),
  };
}

/** Datagrams the kernel dropped on the UDP sockets this process has open now (their `drops` column). */
function ownSocketDrops(): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (socket !== null) inodes.add(socket[1]);
    } catch {
      // closed meanwhile
    }
  }
  let drops = 0;
  for (const table of ['/proc/self/net/udp', '/proc/self/net/udp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns.length > 12 && inodes.has(columns[9])) drops += Number(columns[columns.length - 1]);
    }
  }
  return drops;
}

interface Transfer {
  stack: string;
  mbPerSecond: number;
  longestGapMs: number;
  /** Gaps of STALL_MS or more. */
  stalls: number;
  /** Datagrams the kernel dropped on this process's own sockets during the transfer. */
  ownDrops: number;
  /** Datagrams dropped for a full receive buffer during the transfer, machine-wide. */
  udpDrops: number;
  /** Sends refused for a full send buffer during the transfer, machine-wide (libnice drops those datagrams). */
  udpSendDrops: number;
}

async function transfer(stack: Stack, total: number): Promise<Transfer> {
  const pair = await stack.connect('data');
  try {
    const ends = pair.channel!;
    ends.setLowThreshold(LOW_WATER);
    const payload = Buffer.alloc(MESSAGE_BYTES, 0x5a);
    let received = 0;
    let last = performance.now();
    let longestGapMs = 0;
    let stalls = 0;
    const arrived = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${stack.id}: ${received} of ${total} bytes after 60 s`)), 60_000);
      ends.receive((bytes) => {
        const now = performance.now();
        const gap = now - last;
        longestGapMs = Math.max(longestGapMs, gap);
        if (gap >= STALL_MS) stalls++;
        last = now;
        received += bytes;
        if (received >= total) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const dropsBefore = udpBufferErrors();
    const ownBefore = ownSocketDrops();
    const started = performance.now();
    last = started;
    for (let sent = 0; sent < total; sent += MESSAGE_BYTES) {
      if (ends.bufferedAmount() > HIGH_WATER) await ends.drained();
      ends.send(payload);
    }
    await arrived;
    const seconds = (performance.now() - started) / 1000;
    const dropsAfter = udpBufferErrors();
    const ownDrops = ownSocketDrops() - ownBefore;
    return {
      ownDrops,
      stack: stack.id,
      mbPerSecond: total / 1e6 / seconds,
      longestGapMs,
      stalls,
      udpDrops: dropsAfter.receive - dropsBefore.receive,
      udpSendDrops: dropsAfter.send - dropsBefore.send,
    };
  } finally {
    await pair.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, mib: { type: 'string', default: '16' } }, strict: true });
  const runs = Number(values.runs);
  const total = Number(values.mib) * 2 ** 20;
  console.log(`load average at start: ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
  const transfers: Transfer[] = [];
  for (let run = 0; run < runs; run++) {
    for (const stack of run % 2 === 0 ? [gstWebrtcNode, nodeDatachannel] : [nodeDatachannel, gstWebrtcNode]) {
      const measured = await transfer(stack, total);
      transfers.push(measured);
      console.log(JSON.stringify({ ...measured, mbPerSecond: round(measured.mbPerSecond), longestGapMs: Math.round(measured.longestGapMs) }));
    }
  }
  for (const id of ['gst-webrtc-node', 'node-datachannel']) {
    const mine = transfers.filter((t) => t.stack === id);
    console.log(
      `${id}: median ${round(median(mine.map((t) => t.mbPerSecond)))} MB/s, transfers with a stall ≥ ${STALL_MS} ms: ` +
        `${mine.filter((t) => t.stalls > 0).length} of ${mine.length}, datagrams dropped on its own sockets: ${mine.map((t) => t.ownDrops).join(' ')}; machine-wide receive-buffer drops: ${mine.map((t) => t.udpDrops).join(' ')}; send-buffer drops: ${mine.map((t) => t.udpSendDrops).join(' ')}`,
    );
  }
  const ratio = median(transfers.filter((t) => t.stack === 'gst-webrtc-node').map((t) => t.mbPerSecond)) / median(transfers.filter((t) => t.stack === 'node-datachannel').map((t) => t.mbPerSecond));
  console.log(`ratio WebRtcBin / node-datachannel (medians): ${round(ratio, 2)}; load average at end: ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
