// The shape every benchmark figure returns, and what run.ts writes to latest.json.

/** A table cell: measured numbers, labels, yes/no answers; null where nothing was measured. */
export type Cell = number | string | boolean | null;

/** One row of a figure's table, keyed by column. */
export type Row = Record<string, Cell>;

/** A column of a figure's table. */
export interface Column {
  key: string;
  label: string;
}

/** A figure: its measured rows and how they were measured. */
export interface Figure {
  /** Short title, e.g. `Binding overhead: Node.js vs C`. */
  title: string;
  /** How the numbers were measured: scenario, clock, statistics. */
  method: string;
  /** The table's columns, in order. */
  columns: Column[];
  rows: Row[];
  /** One line for the summary table, built from the rows. */
  headline: string;
  /** Wall-clock seconds the figure took. */
  durationSeconds?: number;
  /** Anything else a figure reports (e.g. figure 1's ratios). */
  [extra: string]: unknown;
}

/** Options every figure takes. */
export interface FigureOptions {
  /** A short run that only shows the figure works (the test suite uses it). */
  quick: boolean;
  /** Progress lines go here (stderr), never to stdout. */
  log: (line: string) => void;
}
