// Runs one figure in this process and writes it as JSON: the child process
// run.ts starts for each figure, so that no figure inherits another's threads,
// memory or warm caches.
//
//   vite-node bench/run-figure.ts --figure=NAME --result=FILE [--quick]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { FIGURES } from './figures.js';

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
    const run = await entry.load();
    const figure = await run({ quick: values.quick ?? false, log: (line) => process.stderr.write(`${line}\n`) });
    figure.durationSeconds = Math.round((performance.now() - started) / 100) / 10;
    writeFileSync(values.result, `${JSON.stringify(figure, null, 2)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`figure ${entry.number} (${entry.name}) failed: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

// Pipelines are closed by then; exit rather than wait for GStreamer's thread pools to idle out.
void main().then((code) => process.exit(code));
