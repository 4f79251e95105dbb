// Figure 5: does the binding keep Node's event loop responsive? p99 event-loop
// delay while 50 viewers negotiate at once, and while they stream.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

import type { Figure, FigureOptions, Row } from './support/figure.js';
import { FanOutSession, sleep } from './support/fan-out-session.js';
import { round } from './support/stats.js';

/** The sampling interval of the delay monitor, in milliseconds. */
const RESOLUTION_MS = 10;

function row(phase: string, viewers: number, seconds: number, histogram: IntervalHistogram): Row {
  // The histogram records the whole interval between samples; the delay is what exceeds the sampling interval.
  const delayMs = (ns: number) => round(Math.max(0, ns / 1e6 - RESOLUTION_MS), 2);
  return {
    phase,
    viewers,
    seconds: round(seconds, 1),
    samples: histogram.count,
    p50Ms: delayMs(histogram.percentile(50)),
    p99Ms: delayMs(histogram.percentile(99)),
    maxMs: delayMs(histogram.max),
  };
}

/** Runs `work` with a fresh delay monitor; returns the row for it. */
async function monitored(phase: string, viewers: number, work: () => Promise<void>): Promise<Row> {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const start = performance.now();
  histogram.enable();
  try {
    await work();
  } finally {
    histogram.disable();
  }
  return row(phase, viewers, (performance.now() - start) / 1000, histogram);
}

/** Figure 5. */
export async function eventLoop({ quick, log }: FigureOptions): Promise<Figure> {
  const viewers = quick ? 5 : 50;
  const seconds = quick ? 3 : 10;
  const session = await FanOutSession.start();
  const rows: Row[] = [];
  try {
    await sleep(1000);
    rows.push(await monitored('Source only, no viewers', 0, () => sleep(seconds * 1000)));
    rows.push(await monitored(`${viewers} viewers negotiating at once`, viewers, () => session.addViewers(viewers, viewers)));
    log(`  ${JSON.stringify(rows.at(-1))}`);
    await sleep(1000);
    rows.push(await monitored(`${viewers} viewers streaming`, viewers, () => sleep(seconds * 1000)));
    log(`  ${JSON.stringify(rows.at(-1))}`);
  } finally {
    session.close();
  }
  const [, negotiating, streaming] = rows;
  return {
    title: 'Event-loop delay',
    method:
      `perf_hooks.monitorEventLoopDelay (sampling every ${RESOLUTION_MS} ms) in the process that runs figure 4's scenario: a ` +
      `MediaFanOut with no viewers for ${seconds} s; then ${viewers} viewers added at once, all ${viewers} negotiations (offer/answer, ` +
      `trickle ICE, DTLS) running concurrently, measured from the first addViewer() until every viewer has decoded a frame; then ` +
      `${seconds} s of those ${viewers} viewers streaming. Each phase has its own histogram. The delay is how much later than scheduled the ` +
      `monitor's timer ran (the recorded interval minus the ${RESOLUTION_MS} ms sampling interval), so it shows how long JS work ` +
      `(event dispatch, SDP handling, the benchmark's own polling) held the loop. With few samples (a short phase) p99 is close to the maximum.`,
    columns: [
      { key: 'phase', label: 'Phase' },
      { key: 'viewers', label: 'Viewers' },
      { key: 'seconds', label: 'Duration (s)' },
      { key: 'samples', label: 'Samples' },
      { key: 'p50Ms', label: 'p50 delay (ms)' },
      { key: 'p99Ms', label: 'p99 delay (ms)' },
      { key: 'maxMs', label: 'max delay (ms)' },
    ],
    rows,
    headline: `p99 event-loop delay ${negotiating.p99Ms} ms during ${viewers} simultaneous negotiations, ${streaming.p99Ms} ms with ${viewers} viewers streaming`,
  };
}
