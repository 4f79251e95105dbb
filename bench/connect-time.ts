// Figure 2: how long a connection takes to come up, from webrtcbin's
// `negotiationneeded` to both peers connected and to the first decoded frame;
// the first connection of a fresh process, with and without `await warmUp()`;
// and a connection to headless Chromium.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PeerConnector, Pipeline, WebRtcBin } from '../lib/index.js';
import { latencyProbe, type NativeLatencyProbe } from './support/bench-addon.js';
import { until } from '../test/support/wait.js';
import { FOLLOWING, type FirstConnectionResult } from './support/first-connection.js';
import { ChromiumPeer } from './support/chromium-peer.js';
import type { Figure, FigureOptions, Row } from './support/figure.js';
import { LOOPBACK_AUDIO_BRANCH, LOOPBACK_LATENCY, LOOPBACK_SENDER, LOOPBACK_VIDEO_BRANCH } from './support/media.js';
import { monotonicNs } from './support/process-usage.js';
import { percentile, round } from './support/stats.js';

/** Milliseconds from `negotiationneeded` to each milestone of one connection. */
interface Connection {
  negotiatedMs: number;
  connectedMs: number;
  firstFrameMs: number;
  /** From constructing the sender's pipeline to both peers connected: what a user waits for, plugin loading included. */
  createdToConnectedMs: number;
}

const TIMEOUT_MS = 20_000;

/** One connection, from a fresh sender pipeline and receiver to its first decoded frame; closes both. */
export async function connectOnce(): Promise<Connection> {
  const created = monotonicNs();
  const tx = new Pipeline(LOOPBACK_SENDER);
  const rx = new WebRtcBin({ latency: LOOPBACK_LATENCY });
  try {
    const sender = tx.getWebRtcBin('tx')!;
    let start = NaN;
    const connectedAt: number[] = [];
    let firstFrame: NativeLatencyProbe | undefined;
    // Registered before PeerConnector's own listener, so this is the moment JS learns of it.
    sender.once('negotiationneeded', () => (start = monotonicNs()));
    for (const peer of [sender, rx]) {
      peer.on('connectionstatechange', (state) => {
        if (state === 'connected') connectedAt.push(monotonicNs());
      });
    }
    rx.on('track', (track) => {
      if (track.kind !== 'video') return void track.link(LOOPBACK_AUDIO_BRANCH);
      track.link(LOOPBACK_VIDEO_BRANCH);
      firstFrame = latencyProbe(rx.pipeline.getElement('dec')!.native, 'src', { limit: 1 });
    });
    // pair() resolves once both sides are wired; the offerer's next negotiation is the offer/answer exchange.
    const [offerer] = await PeerConnector.pair(sender, rx);
    const negotiated = offerer.nextNegotiation().then(() => monotonicNs());
    await tx.play();
    const negotiatedAt = await negotiated;
    await until(() => connectedAt.length === 2, 'both peers are connected', TIMEOUT_MS, 2);
    let frameAt = NaN;
    await until(
      () => {
        const record = firstFrame?.take();
        if (record !== undefined && record.length > 0) frameAt = record[0];
        return !Number.isNaN(frameAt);
      },
      'the first frame is decoded',
      TIMEOUT_MS,
      5,
    );
    const ms = (at: number) => (at - start) / 1e6;
    return {
      negotiatedMs: ms(negotiatedAt),
      connectedMs: ms(Math.max(...connectedAt)),
      firstFrameMs: ms(frameAt),
      createdToConnectedMs: (Math.max(...connectedAt) - created) / 1e6,
    };
  } finally {
    tx.close();
    rx.close();
  }
}

const ROOT = join(__dirname, '..');
const FIRST_CONNECTION_TIMEOUT_MS = 60_000;

/** The first connection of a fresh process (bench/connect-first.ts). */
function firstConnection(kind: 'data' | 'media', withWarmUp: boolean, scratch: string, index: number): Promise<FirstConnectionResult> {
  const result = join(scratch, `first-${kind}-${withWarmUp ? 'warm-up' : 'plain'}-${index}.json`);
  const args = [
    join(ROOT, 'node_modules/vite-node/vite-node.mjs'),
    join(ROOT, 'bench/connect-first.ts'),
    `--kind=${kind}`,
    `--result=${result}`,
    ...(withWarmUp ? ['--warm-up'] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), FIRST_CONNECTION_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && existsSync(result)) resolve(JSON.parse(readFileSync(result, 'utf8')) as FirstConnectionResult);
      else reject(new Error(`a fresh process's first connection failed (${signal ?? code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
}

/** The summary row of `values` (milliseconds). */
function statsRow(measure: string, values: number[], extra: Row = {}): Row {
  return {
    measure,
    p50: round(percentile(values, 50), 1),
    p95: round(percentile(values, 95), 1),
    min: round(Math.min(...values), 1),
    max: round(Math.max(...values), 1),
    cold: null,
    vsWarm: null,
    ...extra,
  };
}

/** Figure 2. */
export async function connectTime({ quick, log }: FigureOptions): Promise<Figure> {
  const count = quick ? 5 : 50;
  const freshProcesses = quick ? 2 : 6;
  const browserConnections = quick ? 3 : 15;
  const cold = await connectOnce();
  log(`  cold connection: ${JSON.stringify(cold)}`);
  const samples: Connection[] = [];
  for (let i = 0; i < count; i++) {
    samples.push(await connectOnce());
    if ((i + 1) % 10 === 0 || i + 1 === count) log(`  ${i + 1}/${count} connections`);
  }
  const row = (measure: string, field: keyof Connection): Row => ({ ...statsRow(measure, samples.map((sample) => sample[field])), cold: round(cold[field], 1) });
  const rows = [row('Offer/answer done', 'negotiatedMs'), row('Both peers connected', 'connectedMs'), row('First decoded frame', 'firstFrameMs')];

  // The first connection of fresh processes, alternating without and with warmUp(), each against the
  // median of the connections that follow it in the same process.
  const warm = samples.map((sample) => sample.createdToConnectedMs);
  const first: Record<string, FirstConnectionResult[]> = {};
  const scratch = mkdtempSync(join(tmpdir(), 'gst-webrtc-node-connect-'));
  try {
    for (let i = 0; i < freshProcesses; i++) {
      for (const kind of ['data', 'media'] as const) {
        for (const withWarmUp of i % 2 === 0 ? [false, true] : [true, false]) {
          (first[`${kind}-${withWarmUp}`] ??= []).push(await firstConnection(kind, withWarmUp, scratch, i));
        }
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  for (const kind of ['data', 'media'] as const) {
    const what = kind === 'data' ? 'data channel pair' : "figure 2's VP8 + Opus pair";
    const following = [...first[`${kind}-false`], ...first[`${kind}-true`]].flatMap((run) => run.followingMs);
    const followingP50 = percentile(following, 50);
    const vsWarm = (values: number[]) => ({ vsWarm: round(percentile(values, 50) / followingP50, 2) });
    const plain = first[`${kind}-false`].map((run) => run.firstMs);
    const afterWarmUp = first[`${kind}-true`].map((run) => run.firstMs);
    rows.push(
      statsRow(`Created to connected, ${what}: warm (connections 2 to ${FOLLOWING + 1} of those processes)`, following, vsWarm(following)),
      statsRow(`Created to connected, ${what}: first in a fresh process`, plain, vsWarm(plain)),
      statsRow(`Created to connected, ${what}: first after await warmUp()`, afterWarmUp, vsWarm(afterWarmUp)),
    );
    log(`  ${kind} first connection: ${round(percentile(plain, 50), 1)} ms plain, ${round(percentile(afterWarmUp, 50), 1)} ms after warmUp(); warm ${round(followingP50, 1)} ms`);
  }
  rows.push(statsRow('await warmUp() itself (fresh process)', [...first['data-true'], ...first['media-true']].map((run) => run.warmUpMs!)));
  rows.push(statsRow(`Created to connected, figure 2's pair: warm (the ${count} connections above)`, warm));

  // Headless Chromium as the far end.
  let browserNote = '';
  try {
    const chromium = await ChromiumPeer.start();
    try {
      await chromium.connectOnce();
      const browser: number[] = [];
      for (let i = 0; i < browserConnections; i++) browser.push(await chromium.connectOnce());
      rows.push(statsRow('Created to connected: WebRtcBin to headless Chromium (data channel)', browser));
      log(`  chromium: p50 ${round(percentile(browser, 50), 1)} ms`);
    } finally {
      await chromium.close();
    }
  } catch (error) {
    browserNote = ` (not measured: ${(error as Error).message.split('\n')[0]})`;
    log(`  chromium row not measured: ${(error as Error).message}`);
  }
  const connected = rows[1];
  const firstPlain = rows.find((r) => String(r.measure).includes('data channel pair: first in a fresh'))!;
  const firstWarm = rows.find((r) => String(r.measure).includes('data channel pair: first after await warmUp'))!;
  const dataWarm = rows.find((r) => String(r.measure).includes('data channel pair: warm'))!;
  const chromiumRow = rows.find((r) => String(r.measure).includes('Chromium'));
  return {
    title: 'Time to connected and to first decoded frame',
    method:
      `${count} connections one after another in one Node.js process, each with a fresh sender pipeline (figure 1's VP8 640x480@30 ` +
      `plus Opus) and a fresh receiving WebRtcBin (latency ${LOOPBACK_LATENCY} ms), paired by PeerConnector over direct in-process ` +
      `signalling with trickle ICE, then closed. Times start when JS receives the sender's \`negotiationneeded\` and end when JS has ` +
      `PeerConnector's \`negotiated\` (offer and answer applied on both sides), when both peers have reported \`connected\`, and when ` +
      `vp8dec outputs its first frame (a pad probe stamps it on the streaming thread with the same monotonic clock). Percentiles ` +
      `interpolate between ranks. "Cold" is one extra connection made first and left out of the statistics: the first in the ` +
      `process, which also loads the plugins. The "created to connected" rows time from constructing the sender's pipeline (plugin ` +
      `loading included) to both peers connected, for two kinds of pair: a data channel between two WebRtcBins (the ` +
      `side-by-side figure's), and figure 2's VP8 + Opus pair, whose encoder, decoder and test-source plugins warmUp() does not load. ` +
      `${freshProcesses} fresh processes per kind make their first connection without and ${freshProcesses} with \`await warmUp()\` ` +
      `before it (alternating; the process's start-up and module loading are not counted, the warm-up itself is its own row), then ` +
      `${FOLLOWING} more each: those are the warm reference of "× warm". The last rows: figure 2's warm connections above, timed the ` +
      `same way, and ${browserConnections} connections (after one left out) from a fresh WebRtcBin ` +
      `offering a data channel to a fresh RTCPeerConnection in headless Chromium (Debian's, driven by playwright-core, page served from ` +
      `127.0.0.1, default mDNS privacy, so the pair forms through peer-reflexive candidates), ending when the WebRtcBin and the page ` +
      `(as Node hears it through playwright) both report connected${browserNote}. "× warm" divides a row's p50 by the p50 of its kind's warm row.`,
    columns: [
      { key: 'measure', label: 'Measure' },
      { key: 'p50', label: 'p50 (ms)' },
      { key: 'p95', label: 'p95 (ms)' },
      { key: 'min', label: 'min (ms)' },
      { key: 'max', label: 'max (ms)' },
      { key: 'cold', label: 'cold (ms)' },
      { key: 'vsWarm', label: '× warm' },
    ],
    rows,
    samples,
    firstConnections: first,
    headline:
      `connected p50 ${connected.p50} ms / p95 ${connected.p95} ms; data channel pair ${dataWarm.p50} ms warm, the first of a process ` +
      `${firstPlain.vsWarm}× that, ${firstWarm.vsWarm}× after await warmUp()` +
      (chromiumRow !== undefined ? `; to Chromium p50 ${chromiumRow.p50} ms` : '') +
      ` (${count} connections)`,
  };
}
