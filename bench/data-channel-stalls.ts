// Where a WebRtcBin data channel stalls: 10 transfers per stack (WebRtcBin and
// node-datachannel, alternating, a fresh pair each), each with its longest gap
// between two arriving messages and the UDP datagrams the kernel dropped for a
// full socket receive buffer meanwhile (/proc/net/snmp, Udp RcvbufErrors: the
// whole network namespace, so other work on the machine can add to it).
// See docs/benchmarks-data-channel.md.
//
//   npx vite-node bench/data-channel-stalls.ts [--runs=10] [--mib=16]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { gstWebrtcNode } from './side-by-side/gst-webrtc-node.js';
import { nodeDatachannel } from './side-by-side/node-datachannel.js';
import type { Stack } from './side-by-side/stack.js';
import { HIGH_WATER, LOW_WATER, MESSAGE_BYTES, STALL_MS } from './side-by-side/tasks.js';
import { median, round } from './support/stats.js';

/** The kernel's counts of UDP datagrams dropped because a socket's receive or send buffer was full. */
function udpBufferErrors(): { receive: number; send: number } {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((line) => line.startsWith('Udp:'));
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  return { receive: Number(values[names.indexOf('RcvbufErrors')]), send: Number(values[names.indexOf('SndbufErrors')]) };
}

interface Transfer {
  stack: string;
  mbPerSecond: number;
  longestGapMs: number;
  /** Gaps of STALL_MS or more. */
  stalls: number;
  /** Datagrams dropped for a full receive buffer during the transfer. */
  udpDrops: number;
  /** Sends refused for a full send buffer during the transfer (libnice drops those datagrams). */
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
    const started = performance.now();
    last = started;
    for (let sent = 0; sent < total; sent += MESSAGE_BYTES) {
      if (ends.bufferedAmount() > HIGH_WATER) await ends.drained();
      ends.send(payload);
    }
    await arrived;
    const seconds = (performance.now() - started) / 1000;
    const dropsAfter = udpBufferErrors();
    return {
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
        `${mine.filter((t) => t.stalls > 0).length} of ${mine.length}, UDP receive-buffer drops: ${mine.map((t) => t.udpDrops).join(' ')}; send-buffer drops: ${mine.map((t) => t.udpSendDrops).join(' ')}`,
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
