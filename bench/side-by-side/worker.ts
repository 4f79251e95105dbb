// One task of the side-by-side figure against one stack, in this (fresh) process;
// writes the result as JSON. The figure (bench/side-by-side.ts) starts one per run.
//
//   node --expose-gc vite-node bench/side-by-side/worker.ts --stack=ID --task=NAME --result=FILE [--quick]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { STACKS } from './stacks.js';
import { runTask, TASKS, type TaskName } from './tasks.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { stack: { type: 'string' }, task: { type: 'string' }, result: { type: 'string' }, quick: { type: 'boolean', default: false } },
    strict: true,
  });
  const stack = STACKS.find((candidate) => candidate.id === values.stack);
  const task = TASKS.find((name) => name === values.task) as TaskName | undefined;
  if (stack === undefined || task === undefined || values.result === undefined) {
    process.stderr.write(`usage: worker.ts --stack=${STACKS.map((s) => s.id).join('|')} --task=${TASKS.join('|')} --result=FILE [--quick]\n`);
    return 2;
  }
  process.on('uncaughtException', (error) => {
    process.stderr.write(`side-by-side ${stack.id} ${task} failed: uncaught ${error.stack ?? String(error)}\n`);
    process.exit(1);
  });
  try {
    const measured = await runTask(task, stack, values.quick ?? false);
    writeFileSync(values.result, JSON.stringify({ label: stack.label(), measured }));
    return 0;
  } catch (error) {
    process.stderr.write(`side-by-side ${stack.id} ${task} failed: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

// Exit rather than wait for the stacks' thread pools to wind down.
void main().then((code) => process.exit(code));
