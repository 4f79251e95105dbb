// The figures, in the order the issue lists them; each runs in a process of its own (run-figure.ts).
import type { Figure, FigureOptions } from './support/figure.js';

export interface FigureEntry {
  /** Key in latest.json and the --only option. */
  name: string;
  number: number;
  /** Loads the figure's module and returns its function. */
  load(): Promise<(options: FigureOptions) => Promise<Figure>>;
  /** Upper bound for the figure's process, in seconds. */
  timeoutSeconds: { quick: number; full: number };
  /**
   * Whether run-figure.ts records the JS-thread time of native calls during the
   * figure (default true). Off where the wrapping would distort what is measured.
   */
  nativeCallStats?: boolean;
}

export const FIGURES: FigureEntry[] = [
  {
    name: 'binding-overhead',
    number: 1,
    load: async () => (await import('./binding-overhead.js')).bindingOverhead,
    timeoutSeconds: { quick: 60, full: 300 },
    // It times native calls itself, a few hundred nanoseconds each: a wrapper would be most of that.
    nativeCallStats: false,
  },
  {
    name: 'connect-time',
    number: 2,
    load: async () => (await import('./connect-time.js')).connectTime,
    timeoutSeconds: { quick: 60, full: 240 },
  },
  {
    name: 'latency',
    number: 3,
    load: async () => (await import('./latency.js')).latency,
    timeoutSeconds: { quick: 60, full: 120 },
  },
  {
    name: 'fan-out-scale',
    number: 4,
    load: async () => (await import('./fan-out-scale.js')).fanOutScale,
    timeoutSeconds: { quick: 60, full: 360 },
  },
  {
    name: 'event-loop',
    number: 5,
    load: async () => (await import('./event-loop.js')).eventLoop,
    timeoutSeconds: { quick: 60, full: 180 },
  },
  {
    name: 'data-channel',
    number: 6,
    load: async () => (await import('./data-channel-figure.js')).dataChannel,
    timeoutSeconds: { quick: 60, full: 180 },
  },
  {
    name: 'side-by-side',
    number: 7,
    load: async () => (await import('./side-by-side.js')).sideBySide,
    timeoutSeconds: { quick: 300, full: 900 },
  },
  {
    name: 'network-receiving',
    number: 8,
    load: async () => (await import('./network/receiving.js')).networkReceiving,
    timeoutSeconds: { quick: 60, full: 240 },
  },
  {
    name: 'network-sending',
    number: 9,
    load: async () => (await import('./network/sending.js')).networkSending,
    timeoutSeconds: { quick: 60, full: 240 },
  },
  {
    name: 'network-fec',
    number: 10,
    load: async () => (await import('./network/fec.js')).networkFec,
    timeoutSeconds: { quick: 60, full: 300 },
  },
];
