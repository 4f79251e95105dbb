// Turns a run's results into latest.json's shape, a Markdown report and an SVG chart (drawn by hand).
import type { Cell, Figure } from './support/figure.js';

/** The machine a run measured. */
export interface Machine {
  cpus: number;
  model: string;
  node: string;
  gstreamer: string;
  os: string;
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine. */
  loadAverage: number[];
}

/** A figure that could not be measured. */
export interface FailedFigure {
  number: number;
  title: string;
  error: string;
}

export type FigureResult = (Figure & { number: number }) | FailedFigure;

/** What bench/results/latest.json holds. */
export interface Report {
  machine: Machine;
  date: string;
  quick: boolean;
  durationSeconds: number;
  figures: Record<string, FigureResult>;
}

export function failed(figure: FigureResult): figure is FailedFigure {
  return 'error' in figure;
}

function cellText(cell: Cell | undefined): string {
  if (cell === null || cell === undefined) return '–';
  if (typeof cell === 'boolean') return cell ? 'yes' : 'no';
  return String(cell).replace(/\|/g, '\\|');
}

function table(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

function ordered(report: Report): [string, FigureResult][] {
  return Object.entries(report.figures).sort(([, a], [, b]) => a.number - b.number);
}

/** One line per figure: the table `npm run bench` prints and the README shows. */
export function summaryTable(report: Report): string {
  return table(
    ['#', 'Figure', 'Result'],
    ordered(report).map(([, figure]) => [String(figure.number), figure.title, failed(figure) ? `not measured: ${cellText(figure.error.split('\n')[0])}` : cellText(figure.headline)]),
  );
}

/** A line naming the machine and the run. */
export function machineLine(report: Report): string {
  const { machine } = report;
  return (
    `${report.date.slice(0, 10)}, ${report.quick ? 'quick run (shortened: not for comparison)' : 'full run'}, ${report.durationSeconds} s; ` +
    `${machine.cpus} × ${machine.model}, ${machine.os}, Node.js ${machine.node}, GStreamer ${machine.gstreamer}, ` +
    `load average ${machine.loadAverage.map((load) => load.toFixed(2)).join(' / ')} at the start`
  );
}

/** The whole report: summary, then each figure's method and table. */
export function markdown(report: Report): string {
  const parts = [`# Benchmark results`, '', machineLine(report), '', summaryTable(report), '', '![CPU and memory against viewers; Node.js vs C](chart.svg)'];
  for (const [name, figure] of ordered(report)) {
    parts.push('', `## ${figure.number}. ${figure.title}`, '');
    if (failed(figure)) {
      parts.push(`Not measured (\`${name}\`): ${figure.error.split('\n')[0]}`);
      continue;
    }
    parts.push(`Method: ${figure.method}`, '', table(figure.columns.map((column) => column.label), figure.rows.map((row) => figure.columns.map((column) => cellText(row[column.key])))));
    if (figure.durationSeconds !== undefined) parts.push('', `(${figure.durationSeconds} s)`);
    const calls = figure.nativeCalls as
      | { name: string; count: number; totalMs: number; maxMs: number; maxCpuMs?: number; blocked?: number; maxBlockedMs?: number }[]
      | undefined;
    if (calls !== undefined && calls.length > 0) {
      const optional = (value: number | undefined) => (value === undefined ? '' : value.toFixed(2));
      parts.push(
        '',
        'JS-thread time in native calls during this figure (slowest total first; "blocked": calls during which the JS thread waited, e.g. on a lock):',
        '',
        table(
          ['Native call', 'Calls', 'Total (ms)', 'Max (ms)', 'Max CPU (ms)', 'Blocked', 'Longest blocked (ms)'],
          calls.map((call) => [
            call.name,
            String(call.count),
            call.totalMs.toFixed(2),
            call.maxMs.toFixed(2),
            optional(call.maxCpuMs),
            call.blocked === undefined ? '' : String(call.blocked),
            optional(call.maxBlockedMs),
          ]),
        ),
      );
    }
  }
  return `${parts.join('\n')}\n`;
}

// --- the chart ---

const WIDTH = 960;
const HEIGHT = 380;
const PANEL = { top: 56, bottom: 320, width: 380 };
const COLORS = { cpu: '#d9480f', rss: '#1864ab', c: '#868e96', node: '#2b8a3e', grid: '#dee2e6', text: '#212529' };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escape(content)}</text>`;
}

/** A round upper bound for an axis. */
function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function fanOutPanel(figure: FigureResult | undefined, left: number): string {
  const out: string[] = [text(left, 24, '4. Fan-out: CPU and RSS against viewers', 'font-weight="bold"')];
  if (figure === undefined || failed(figure)) return [...out, text(left, 120, 'not measured in this run')].join('\n');
  const rows = figure.rows.filter((row) => typeof row.viewers === 'number' && typeof row.cpuPercent === 'number' && typeof row.rssMiB === 'number');
  const xMax = niceMax(Math.max(...rows.map((row) => row.viewers as number)));
  const cpuMax = niceMax(Math.max(...rows.map((row) => row.cpuPercent as number)));
  const rssMax = niceMax(Math.max(...rows.map((row) => row.rssMiB as number)));
  const x = (value: number) => left + (value / xMax) * PANEL.width;
  const y = (value: number, max: number) => PANEL.bottom - (value / max) * (PANEL.bottom - PANEL.top);
  for (let i = 0; i <= 4; i++) {
    const at = PANEL.top + ((PANEL.bottom - PANEL.top) * i) / 4;
    out.push(`<line x1="${left}" x2="${left + PANEL.width}" y1="${at}" y2="${at}" stroke="${COLORS.grid}"/>`);
    out.push(text(left - 6, at + 4, String(Math.round(cpuMax * (1 - i / 4))), `text-anchor="end" fill="${COLORS.cpu}"`));
    out.push(text(left + PANEL.width + 6, at + 4, String(Math.round(rssMax * (1 - i / 4))), `fill="${COLORS.rss}"`));
  }
  for (let i = 0; i <= 5; i++) {
    const viewers = (xMax * i) / 5;
    out.push(text(x(viewers), PANEL.bottom + 18, String(Number(viewers.toFixed(1))), 'text-anchor="middle"'));
  }
  out.push(text(left + PANEL.width / 2, PANEL.bottom + 38, 'viewers', 'text-anchor="middle"'));
  out.push(text(left - 24, PANEL.top - 16, 'CPU, % of one core', `text-anchor="start" fill="${COLORS.cpu}"`));
  out.push(text(left + PANEL.width + 24, PANEL.top - 16, 'RSS, MiB', `text-anchor="end" fill="${COLORS.rss}"`));
  for (const [key, max, color] of [['cpuPercent', cpuMax, COLORS.cpu], ['rssMiB', rssMax, COLORS.rss]] as const) {
    const points = rows.map((row) => `${x(row.viewers as number).toFixed(1)},${y(row[key] as number, max).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"/>`);
    for (const row of rows) {
      // A hollow marker: not every viewer decoded at full frame rate.
      const fill = row.fullRate === false ? 'white' : color;
      out.push(`<circle cx="${x(row.viewers as number).toFixed(1)}" cy="${y(row[key] as number, max).toFixed(1)}" r="4" fill="${fill}" stroke="${color}" stroke-width="2"/>`);
    }
  }
  out.push(text(left, PANEL.bottom + 58, 'hollow marker: some viewer decoded below full frame rate', 'font-size="11"'));
  return out.join('\n');
}

function overheadPanel(figure: FigureResult | undefined, left: number): string {
  const out: string[] = [text(left, 24, '1. Binding overhead: Node.js relative to C (C = 1)', 'font-weight="bold"'),
    text(left, 40, 'bar height: ratio to C; labels: the measured medians', 'font-size="11"'),
  ];
  if (figure === undefined || failed(figure)) return [...out, text(left, 120, 'not measured in this run')].join('\n');
  const [c, node] = figure.rows;
  const metrics = [
    { key: 'cpuSeconds', label: 'CPU', unit: 's' },
    { key: 'peakRssMiB', label: 'peak RSS', unit: 'MiB' },
    { key: 'firstFrameMs', label: 'first frame', unit: 'ms' },
    { key: 'connectedMs', label: 'connected', unit: 'ms' },
  ];
  const ratios = metrics.map((metric) => (node[metric.key] as number) / (c[metric.key] as number));
  const max = niceMax(Math.max(1, ...ratios));
  const y = (value: number) => PANEL.bottom - (value / max) * (PANEL.bottom - PANEL.top);
  for (let i = 0; i <= 4; i++) {
    const value = (max * i) / 4;
    out.push(`<line x1="${left}" x2="${left + PANEL.width}" y1="${y(value)}" y2="${y(value)}" stroke="${COLORS.grid}"/>`);
    out.push(text(left - 6, y(value) + 4, value.toFixed(1), 'text-anchor="end"'));
  }
  const group = PANEL.width / metrics.length;
  metrics.forEach((metric, i) => {
    const x0 = left + i * group + group * 0.15;
    const bar = group * 0.32;
    for (const [j, value, row, color] of [[0, 1, c, COLORS.c], [1, ratios[i], node, COLORS.node]] as const) {
      const x = x0 + j * (bar + 4);
      out.push(`<rect x="${x.toFixed(1)}" y="${y(value).toFixed(1)}" width="${bar.toFixed(1)}" height="${(PANEL.bottom - y(value)).toFixed(1)}" fill="${color}"/>`);
      out.push(text(x + bar / 2, y(value) - 4, String(row[metric.key]), 'text-anchor="middle" font-size="11"'));
    }
    out.push(text(left + i * group + group / 2, PANEL.bottom + 18, metric.label, 'text-anchor="middle"'));
    out.push(text(left + i * group + group / 2, PANEL.bottom + 32, metric.unit, 'text-anchor="middle" font-size="11"'));
  });
  out.push(`<rect x="${left}" y="${PANEL.bottom + 44}" width="12" height="12" fill="${COLORS.c}"/>`);
  out.push(text(left + 16, PANEL.bottom + 54, 'C (GStreamer C API)'));
  out.push(`<rect x="${left + 170}" y="${PANEL.bottom + 44}" width="12" height="12" fill="${COLORS.node}"/>`);
  out.push(text(left + 186, PANEL.bottom + 54, 'Node.js (this package)'));
  return out.join('\n');
}

/** The chart the README shows: fan-out cost (figure 4) and binding overhead (figure 1). */
export function chart(report: Report): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT + 20}" viewBox="0 0 ${WIDTH} ${HEIGHT + 20}" font-family="sans-serif" font-size="12" fill="${COLORS.text}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    fanOutPanel(report.figures['fan-out-scale'], 50),
    overheadPanel(report.figures['binding-overhead'], 530),
    text(WIDTH / 2, HEIGHT + 12, machineLine(report).slice(0, 150), 'text-anchor="middle" font-size="10" fill="#868e96"'),
    '</svg>',
    '',
  ].join('\n');
}
