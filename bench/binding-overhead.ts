// Figure 1: the binding's overhead. The same loopback (VP8 640x480@30 plus Opus,
// two webrtcbins, one process) run by a small C program on GStreamer's C API and
// by plain Node.js through this package, each in a fresh process, alternately.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import type { Figure, FigureOptions, Row } from './support/figure.js';
import { median, round } from './support/stats.js';

const ROOT = join(__dirname, '..');
const C_SOURCE = join(ROOT, 'bench/reference/loopback.c');
const C_PROGRAM = join(ROOT, 'bench/build/loopback');
const NODE_PROGRAM = join(ROOT, 'bench/loopback.cjs');
/** Where the package's CommonJS build is copied for the Node runs (under bench/build/, like the C program). */
const DIST_COPY = join(ROOT, 'bench/build/dist/cjs');

/** What both programs print: one JSON line. */
interface LoopbackRun {
  firstFrameMs: number;
  connectedMs: number;
  videoFrames: number;
  audioBuffers: number;
  cpuSeconds: number;
  peakRssKiB: number;
}

const FIELDS: (keyof LoopbackRun)[] = ['firstFrameMs', 'connectedMs', 'videoFrames', 'audioBuffers', 'cpuSeconds', 'peakRssKiB'];

/** Compiles the C reference into bench/build/ (never committed). */
export function buildReference(): string {
  mkdirSync(join(ROOT, 'bench/build'), { recursive: true });
  const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'gstreamer-1.0', 'gstreamer-webrtc-1.0', 'gstreamer-sdp-1.0'], { encoding: 'utf8' })
    .trim()
    .split(/\s+/);
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', C_PROGRAM, C_SOURCE, ...flags], { stdio: ['ignore', 'inherit', 'inherit'] });
  return C_PROGRAM;
}

/**
 * Copies dist/cjs, so that every Node run loads the same build even if dist/ is
 * rebuilt meanwhile (the build script deletes it first). Still below the
 * package folder, so the copy finds the same native addon.
 */
function snapshotDist(): string {
  rmSync(DIST_COPY, { recursive: true, force: true });
  cpSync(join(ROOT, 'dist/cjs'), DIST_COPY, { recursive: true });
  return DIST_COPY;
}

/** Runs one program to completion and parses its JSON line. */
function runOnce(command: string, args: string[], timeoutMs: number): Promise<LoopbackRun> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, GST_WEBRTC_NODE_DIST: DIST_COPY };
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').at(-1) ?? '';
      try {
        if (code !== 0) throw new Error(`exited with ${signal ?? code}`);
        const run = JSON.parse(line) as LoopbackRun;
        for (const field of FIELDS) if (typeof run[field] !== 'number') throw new Error(`no ${field} in ${line}`);
        if (run.firstFrameMs < 0 || run.connectedMs < 0) throw new Error(`never connected or decoded: ${line}`);
        resolve(run);
      } catch (error) {
        reject(new Error(`${command} ${args.join(' ')}: ${(error as Error).message}\n${stderr.slice(-2000)}`));
      }
    });
  });
}

function summary(program: string, runs: LoopbackRun[]): Row {
  const pick = (field: keyof LoopbackRun) => median(runs.map((run) => run[field]));
  return {
    program,
    runs: runs.length,
    cpuSeconds: round(pick('cpuSeconds'), 3),
    peakRssMiB: round(pick('peakRssKiB') / 1024, 1),
    firstFrameMs: round(pick('firstFrameMs'), 0),
    connectedMs: round(pick('connectedMs'), 0),
    videoFrames: round(pick('videoFrames'), 0),
    audioBuffers: round(pick('audioBuffers'), 0),
  };
}

/** Figure 1. */
export async function bindingOverhead({ quick, log }: FigureOptions): Promise<Figure> {
  const seconds = quick ? 3 : 20;
  const pairs = quick ? 1 : 5;
  const timeoutMs = (seconds + 30) * 1000;
  buildReference();
  snapshotDist();
  const c: LoopbackRun[] = [];
  const node: LoopbackRun[] = [];
  for (let i = 0; i < pairs; i++) {
    c.push(await runOnce(C_PROGRAM, [String(seconds)], timeoutMs));
    log(`  C run ${i + 1}/${pairs}: ${JSON.stringify(c.at(-1))}`);
    node.push(await runOnce(process.execPath, [NODE_PROGRAM, String(seconds)], timeoutMs));
    log(`  Node run ${i + 1}/${pairs}: ${JSON.stringify(node.at(-1))}`);
  }
  const cRow = summary('C (GStreamer C API)', c);
  const nodeRow = summary('Node.js (this package)', node);
  // Ratios of the medians, from the unrounded values.
  const ratio = (field: keyof LoopbackRun) => median(node.map((run) => run[field])) / median(c.map((run) => run[field]));
  const ratios = {
    cpuSeconds: round(ratio('cpuSeconds'), 2),
    peakRss: round(ratio('peakRssKiB'), 2),
    firstFrame: round(ratio('firstFrameMs'), 2),
    connected: round(ratio('connectedMs'), 2),
  };
  return {
    title: 'Binding overhead: Node.js vs C',
    method:
      `The same in-process loopback (videotestsrc 640x480@30 → vp8enc deadline=1 plus audiotestsrc → opusenc, sent by one webrtcbin ` +
      `to a second webrtcbin in its own pipeline over loopback ICE/DTLS/SRTP, decoded by vp8dec/opusdec into fakesinks) for ${seconds} s, ` +
      `run by bench/reference/loopback.c (GStreamer C API, GLib main loop; compiled with cc -O2 in this run) and by bench/loopback.cjs ` +
      `(plain Node.js through this package's dist/cjs build, copied at the start of the figure), each in a fresh process, alternately (C, Node, C, Node, …), ${pairs} run(s) each; ` +
      `medians. CPU seconds (user + system) and peak RSS are the process's own getrusage figures (process.resourceUsage() in Node), ` +
      `so they include the runtime itself. Times are from GStreamer initialisation to the receiver's "connected" state and to the first ` +
      `buffer leaving vp8dec (a pad probe in both programs). The last row is Node.js / C.`,
    columns: [
      { key: 'program', label: 'Program' },
      { key: 'runs', label: 'Runs' },
      { key: 'cpuSeconds', label: 'CPU (s)' },
      { key: 'peakRssMiB', label: 'Peak RSS (MiB)' },
      { key: 'firstFrameMs', label: 'First decoded frame (ms)' },
      { key: 'connectedMs', label: 'Connected (ms)' },
      { key: 'videoFrames', label: 'Video frames decoded' },
      { key: 'audioBuffers', label: 'Audio buffers decoded' },
    ],
    rows: [
      cRow,
      nodeRow,
      {
        program: 'Node.js / C',
        runs: null,
        cpuSeconds: ratios.cpuSeconds,
        peakRssMiB: ratios.peakRss,
        firstFrameMs: ratios.firstFrame,
        connectedMs: ratios.connected,
        videoFrames: null,
        audioBuffers: null,
      },
    ],
    ratios,
    runs: { c, node },
    headline: `Node.js / C: CPU ×${ratios.cpuSeconds}, peak RSS ×${ratios.peakRss} (${nodeRow.peakRssMiB} vs ${cRow.peakRssMiB} MiB), first frame ×${ratios.firstFrame}`,
  };
}
