// `npm run bench`: runs the figures (bench/figures.ts), each in a fresh process, and writes
// bench/results/latest.json, latest.md and chart.svg; prints the summary table.
//
//   npm run bench                      full run (under 10 minutes on 2 cores)
//   npm run bench -- --quick           every figure shortened, written to a temporary directory
//   npm run bench -- --only=latency,connect-time --out=DIR
//
// A full run into bench/results also refreshes the tables in docs/benchmarks.md
// and README.md (between their `bench:results` markers).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, type } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { gstreamerVersion } from '../lib/index.js';
import { FIGURES, type FigureEntry } from './figures.js';
import { chart, failed, type FigureResult, machineLine, markdown, type Report, summaryTable } from './report.js';

const ROOT = join(__dirname, '..');
const RESULTS = join(ROOT, 'bench/results');
const VITE_NODE = join(ROOT, 'node_modules/vite-node/vite-node.mjs');

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Runs one figure in a child process; its progress goes to our stderr. */
function runFigure(entry: FigureEntry, quick: boolean, scratch: string): Promise<FigureResult> {
  const resultFile = join(scratch, `${entry.name}.json`);
  // --expose-gc: figures may collect garbage before reading RSS.
  const args = ['--expose-gc', VITE_NODE, join(ROOT, 'bench/run-figure.ts'), `--figure=${entry.name}`, `--result=${resultFile}`, ...(quick ? ['--quick'] : [])];
  const timeoutSeconds = quick ? entry.timeoutSeconds.quick : entry.timeoutSeconds.full;
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && existsSync(resultFile)) {
        done({ ...(JSON.parse(readFileSync(resultFile, 'utf8')) as object), number: entry.number } as FigureResult);
        return;
      }
      // A crash after the figure wrote its result is still a failure, but a different bug: say which.
      const when = existsSync(resultFile) ? ' after writing its result' : '';
      const reason = timedOut ? `timed out after ${timeoutSeconds} s` : `exited with ${signal ?? code}${when}`;
      const lastError = stderr.split('\n').find((line) => line.includes(' failed: ')) ?? '';
      done({ number: entry.number, title: entry.name, error: `${reason}${lastError ? `: ${lastError.trim()}` : ''}` });
    });
  });
}

function machine(): Report['machine'] {
  const { major, minor, micro } = gstreamerVersion();
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.versions.node,
    gstreamer: `${major}.${minor}.${micro}`,
    os: `${type()} ${release()}`,
    loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
  };
}

/** Replaces what lies between `<!-- bench:results:start -->` and `<!-- bench:results:end -->` in a file that has them. */
function refreshSection(file: string, content: string): void {
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  const pattern = /(<!-- bench:results:start -->\n)[\s\S]*?(<!-- bench:results:end -->)/;
  if (!pattern.test(text)) return;
  writeFileSync(file, text.replace(pattern, (_, start: string, end: string) => `${start}${content}\n${end}`));
  log(`updated ${relative(ROOT, file)}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, out: { type: 'string' }, only: { type: 'string' } },
    strict: true,
  });
  const quick = values.quick ?? false;
  // A quick run is not for comparison: it never overwrites the committed results unless asked to.
  const out = resolve(values.out ?? (quick ? join(tmpdir(), 'gst-webrtc-node-bench') : RESULTS));
  const only = values.only?.split(',').map((name) => name.trim());
  const unknown = only?.filter((name) => !FIGURES.some((figure) => figure.name === name)) ?? [];
  if (unknown.length > 0) {
    log(`unknown figure(s): ${unknown.join(', ')}; the figures are ${FIGURES.map((f) => f.name).join(', ')}`);
    return 2;
  }
  const report: Report = { machine: machine(), date: new Date().toISOString(), quick, durationSeconds: 0, figures: {} };
  log(`benchmarks (${quick ? 'quick' : 'full'} run) on ${report.machine.cpus} × ${report.machine.model}`);
  const started = performance.now();
  const scratch = mkdtempSync(join(tmpdir(), 'gst-webrtc-node-bench-'));
  try {
    for (const entry of FIGURES) {
      if (only !== undefined && !only.includes(entry.name)) continue;
      log(`\nfigure ${entry.number}: ${entry.name}`);
      report.figures[entry.name] = await runFigure(entry, quick, scratch);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  report.durationSeconds = Math.round((performance.now() - started) / 1000);

  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(out, 'latest.md'), markdown(report));
  writeFileSync(join(out, 'chart.svg'), chart(report));
  log(`\nwrote ${['latest.json', 'latest.md', 'chart.svg'].map((file) => join(out, file)).join(', ')}`);
  const complete = only === undefined && !Object.values(report.figures).some(failed);
  if (!quick && out === RESULTS && complete) {
    const section = `${machineLine(report)}\n\n${summaryTable(report)}\n`;
    refreshSection(join(ROOT, 'docs/benchmarks.md'), `${section}\nEvery figure's method and full table: [bench/results/latest.md](../bench/results/latest.md).\n`);
    refreshSection(join(ROOT, 'README.md'), `${section}\n![CPU and memory against viewers; Node.js vs C](bench/results/chart.svg)\n`);
  }

  process.stdout.write(`\n${machineLine(report)}\n\n${summaryTable(report)}\n`);
  return Object.values(report.figures).some(failed) ? 1 : 0;
}

void main().then((code) => process.exit(code));
