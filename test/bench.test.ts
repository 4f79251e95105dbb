// The benchmark suite runs and emits well-formed results. A benchmark is not a
// test: nothing here judges how fast anything is, only that every figure was
// measured and reported consistently.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..');
const FIGURES = ['binding-overhead', 'connect-time', 'latency', 'fan-out-scale', 'event-loop', 'data-channel', 'side-by-side', 'network-receiving', 'network-sending', 'network-fec'];
/** A bound on the quick run (about four minutes on two shared cores), not a performance expectation. */
const RUN_TIMEOUT_MS = 480_000;

type Cell = number | string | boolean | null;
interface Figure {
  number: number;
  title: string;
  method: string;
  headline: string;
  columns: { key: string; label: string }[];
  rows: Record<string, Cell>[];
  error?: string;
  [extra: string]: unknown;
}
interface Report {
  machine: { cpus: number; model: string; node: string; gstreamer: string };
  date: string;
  quick: boolean;
  figures: Record<string, Figure>;
}

function run(command: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stderr.slice(-3000)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = (sorted.length - 1) / 2;
  return (sorted[Math.floor(middle)] + sorted[Math.ceil(middle)]) / 2;
};

describe('npm run bench -- --quick', () => {
  let out: string;
  let result: { code: number | null; stdout: string; stderr: string };
  let report: Report;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'bench-test-'));
    result = await run('npm', ['run', '--silent', 'bench', '--', '--quick', `--out=${out}`], RUN_TIMEOUT_MS);
    report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as Report;
  }, RUN_TIMEOUT_MS + 10_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('measures all six figures and prints the summary table', () => {
    const failures = Object.entries(report.figures).filter(([, figure]) => figure.error !== undefined);
    expect(failures.map(([name, figure]) => `${name}: ${figure.error}`)).toEqual([]);
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
    expect(Object.keys(report.figures).sort()).toEqual([...FIGURES].sort());
    expect(result.stdout).toMatch(/\| # \| Figure \| Result \|/);
    for (const figure of Object.values(report.figures)) expect(result.stdout).toContain(figure.title);
  });

  it('describes the machine and the run', () => {
    expect(report.quick).toBe(true);
    expect(Number.isNaN(Date.parse(report.date))).toBe(false);
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.machine.model).toEqual(expect.any(String));
    expect(report.machine.node).toBe(process.versions.node);
    expect(report.machine.gstreamer).toMatch(/^1\.\d+\.\d+$/);
  });

  it('gives every figure a method, a headline and a table whose rows hold measured numbers', () => {
    for (const name of FIGURES) {
      const figure = report.figures[name];
      expect(figure.number).toBe(FIGURES.indexOf(name) + 1);
      expect(figure.method.length, name).toBeGreaterThan(40);
      expect(figure.headline.length, name).toBeGreaterThan(0);
      expect(figure.columns.length, name).toBeGreaterThan(1);
      expect(figure.rows.length, name).toBeGreaterThan(0);
      for (const row of figure.rows) {
        for (const column of figure.columns) expect(column.key in row, `${name}: ${column.key}`).toBe(true);
        for (const cell of Object.values(row)) expect(['number', 'string', 'boolean'].includes(typeof cell) || cell === null).toBe(true);
        for (const cell of Object.values(row)) if (typeof cell === 'number') expect(Number.isFinite(cell), name).toBe(true);
      }
      expect(figure.rows.some((row) => Object.values(row).some((cell) => typeof cell === 'number')), name).toBe(true);
    }
  });

  it('figure 1: the Node/C ratios are computed from the runs it reports', () => {
    const figure = report.figures['binding-overhead'];
    const runs = figure.runs as Record<'c' | 'node', Record<string, number>[]>;
    const ratios = figure.ratios as Record<string, number>;
    expect(runs.c.length).toBeGreaterThan(0);
    expect(runs.node.length).toBe(runs.c.length);
    for (const run of [...runs.c, ...runs.node]) {
      expect(run.videoFrames).toBeGreaterThan(0);
      expect(run.firstFrameMs).toBeGreaterThan(0);
      expect(run.cpuSeconds).toBeGreaterThan(0);
    }
    // Reported to two decimals.
    const expectRatio = (reported: number, field: string) => {
      const measured = median(runs.node.map((r) => r[field])) / median(runs.c.map((r) => r[field]));
      expect(Math.abs(reported - measured), field).toBeLessThanOrEqual(0.00501);
    };
    expectRatio(ratios.cpuSeconds, 'cpuSeconds');
    expectRatio(ratios.peakRss, 'peakRssKiB');
    expectRatio(ratios.firstFrame, 'firstFrameMs');
    expectRatio(ratios.connected, 'connectedMs');
  });

  it('figures 2 to 5 report their measured quantities', () => {
    const connect = report.figures['connect-time'];
    expect(connect.rows.slice(0, 3).map((row) => row.measure)).toEqual(['Offer/answer done', 'Both peers connected', 'First decoded frame']);
    for (const row of connect.rows) expect(row.p50 as number).toBeLessThanOrEqual(row.p95 as number);

    const latency = report.figures.latency;
    expect(latency.rows.map((row) => row.config)).toEqual(['default', 'tuned']);
    for (const row of latency.rows) {
      expect(row.frames).toBeGreaterThan(0);
      expect(row.shownP50).toEqual(expect.any(Number));
      expect(row.decodedP50).toEqual(expect.any(Number));
    }

    const fanOut = report.figures['fan-out-scale'];
    expect(fanOut.rows.map((row) => row.viewers)).toEqual([0, 1, 5]);
    for (const row of fanOut.rows.slice(1)) {
      expect(typeof row.fullRate).toBe('boolean');
      expect(row.minViewerFps).toEqual(expect.any(Number));
      expect(row.threadsPerViewer).toEqual(expect.any(Number));
    }

    const eventLoop = report.figures['event-loop'];
    expect(eventLoop.rows).toHaveLength(3);
    for (const row of eventLoop.rows) expect(row.p99Ms).toEqual(expect.any(Number));
  });

  it('writes the Markdown report and the SVG chart', () => {
    const markdown = readFileSync(join(out, 'latest.md'), 'utf8');
    for (const figure of Object.values(report.figures)) expect(markdown).toContain(`## ${figure.number}. ${figure.title}`);
    expect(markdown).toContain('Method: ');
    const svg = readFileSync(join(out, 'chart.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).not.toContain('NaN');
    expect(svg).toContain('<polyline');
    expect(svg).toContain('<rect');
  });
});
