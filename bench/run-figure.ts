// Runs one figure in this process and writes it as JSON: the child process
// run.ts starts for each figure, so that no figure inherits another's threads,
// memory or warm caches.
//
//   vite-node bench/run-figure.ts --figure=NAME --result=FILE [--quick]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { enableNativeCallStats, nativeCallStats } from '../lib/core/native.js';
import { FIGURES } from './figures.js';
import { threadUsage } from './support/bench-addon.js';

/** How many native calls (by total JS-thread time) a figure's result lists. */
const CALL_STATS_SHOWN = 12;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { figure: { type: 'string' }, result: { type: 'string' }, quick: { type: 'boolean', default: false } },
    strict: true,
  });
  const entry = FIGURES.find((figure) => figure.name === values.figure);
  if (entry === undefined || values.result === undefined) {
    process.stderr.write(`usage: run-figure.ts --figure=${FIGURES.map((f) => f.name).join('|')} --result=FILE [--quick]\n`);
    return 2;
  }
  // An exception thrown from a native callback (another stack's, in the comparison figures) is not the
  // figure's promise rejecting: say which figure it killed, in the line run.ts quotes as the reason.
  process.on('uncaughtException', (error) => {
    process.stderr.write(`figure ${entry.number} (${entry.name}) failed: uncaught ${error.stack ?? String(error)}\n`);
    process.exit(1);
  });
  try {
    const started = performance.now();
    if (entry.nativeCallStats !== false) enableNativeCallStats({ threadUsage });
    const run = await entry.load();
    const figure = await run({ quick: values.quick ?? false, log: (line) => process.stderr.write(`${line}\n`) });
    figure.durationSeconds = Math.round((performance.now() - started) / 100) / 10;
    // JS-thread time in native calls over the whole figure, slowest total first (issue 9: make regressions visible).
    if (entry.nativeCallStats !== false) {
      figure.nativeCalls = nativeCallStats()
        .slice(0, CALL_STATS_SHOWN)
        .map((stat) => ({
          ...stat,
          totalMs: Math.round(stat.totalMs * 100) / 100,
          maxMs: Math.round(stat.maxMs * 100) / 100,
          maxCpuMs: stat.maxCpuMs === undefined ? undefined : Math.round(stat.maxCpuMs * 100) / 100,
          maxBlockedMs: stat.maxBlockedMs === undefined ? undefined : Math.round(stat.maxBlockedMs * 100) / 100,
        }));
    }
    writeFileSync(values.result, `${JSON.stringify(figure, null, 2)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`figure ${entry.number} (${entry.name}) failed: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

// Pipelines are closed by then; exit rather than wait for GStreamer's thread pools to idle out.
void main().then((code) => process.exit(code));
