// Figure 6: data channel throughput against node-datachannel. The measurement is
// bench/data-channel.ts (runDataChannelBench, written with the data channel
// work); this file only presents its result like the other figures.
import type { Cell, Column, Figure, FigureOptions, Row } from './support/figure.js';

/** What runDataChannelBench resolves with, as far as this figure relies on it. */
interface DataChannelResult {
  title?: string;
  method?: string;
  columns?: Column[];
  rows?: Row[];
  headline?: string;
  [extra: string]: unknown;
}

type DataChannelBench = (options: { quick: boolean }) => Promise<DataChannelResult>;

async function load(): Promise<DataChannelBench> {
  // A path in a variable: the figure reports a missing module at run time instead of breaking the build.
  const path = './data-channel.js';
  let module: { runDataChannelBench?: unknown };
  try {
    module = (await import(path)) as { runDataChannelBench?: unknown };
  } catch (error) {
    throw new Error(`bench/data-channel.ts does not load: ${(error as Error).message}`);
  }
  if (typeof module.runDataChannelBench !== 'function') throw new Error('bench/data-channel.ts exports no runDataChannelBench()');
  return module.runDataChannelBench as DataChannelBench;
}

function isCell(value: unknown): value is Cell {
  return value === null || ['number', 'string', 'boolean'].includes(typeof value);
}

/** Figure 6. */
export async function dataChannel({ quick }: FigureOptions): Promise<Figure> {
  const result = await (await load())({ quick });
  if (typeof result?.method !== 'string' || !Array.isArray(result.rows) || result.rows.length === 0) {
    throw new Error('runDataChannelBench() returned no method or no rows');
  }
  const rows = result.rows.map((row) => Object.fromEntries(Object.entries(row).filter(([, value]) => isCell(value))) as Row);
  const columns = result.columns ?? Object.keys(rows[0]).map((key) => ({ key, label: key }));
  const headline =
    result.headline ?? rows.map((row) => columns.map((column) => `${column.label} ${row[column.key] ?? '–'}`).join(', ')).join('; ');
  return { ...result, title: result.title ?? 'Data channel throughput vs node-datachannel', method: result.method, columns, rows, headline };
}
