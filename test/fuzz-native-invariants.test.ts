// Native invariants that must hold whatever the caller does (issue 10): here, a
// second isolateFlow() on a pad in use (deep and cyclic values are case 7 of
// fuzz-regressions, received-message bounds are flood.test.ts). Each scenario
// runs in its own child process, so a use-after-free that crashes fails the
// test, not the runner.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { type NodeRun, runNode } from './support/node-child.js';

const LIBRARY = join(__dirname, '..', 'dist', 'cjs', 'index.js');
const PIPELINE_HANDLE = join(__dirname, '..', 'dist', 'cjs', 'core', 'pipeline-handle.js');

function runScript(source: string, timeoutMs = 20_000): Promise<NodeRun> {
  return runNode(['-e', source], 'the script', timeoutMs);
}

describe('native invariants', () => {
  it('isolateFlow() again on a pad that data flows through returns the same target and frees nothing in use', async () => {
    const run = await runScript(`
      const { Pipeline } = require(${JSON.stringify(LIBRARY)});
      const { nativePipeline } = require(${JSON.stringify(PIPELINE_HANDLE)});
      (async () => {
        const pipeline = new Pipeline('videotestsrc is-live=true ! video/x-raw,width=64,height=48,framerate=200/1 ! tee name=t allow-not-linked=true');
        const branch = pipeline.add('queue ! fakesink name=sink sync=false signal-handoffs=true');
        const native = nativePipeline(pipeline);
        const pad = native.getPad(branch.native, 'sink');
        const targets = [native.isolateFlow(pad)];
        pipeline.link(pipeline.getElement('t'), branch);
        await pipeline.play();
        for (let i = 0; i < 200; i++) {
          targets.push(native.isolateFlow(pad)); // while buffers pass through the guard
          await new Promise((resolve) => setImmediate(resolve));
        }
        const frames = pipeline.getElement('sink').get('last-sample') !== null;
        pipeline.close();
        process.stdout.write(JSON.stringify({ distinct: new Set(targets).size, frames }) + '\\n');
      })();
    `);
    expect({ code: run.code, signal: run.signal }, run.stderr).toEqual({ code: 0, signal: null });
    expect(JSON.parse(run.stdout)).toEqual({ distinct: 1, frames: true });
    expect(run.stderr).not.toMatch(/CRITICAL/);
  });
});
