// Process lifetime, worker_threads and leaks. Each scenario runs in a child
// process (a crash or a hang must not take the test runner with it) using the
// built package in dist/, as a user would.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { startNode } from './support/cli.js';
import { type NodeRun, runNode } from './support/node-child.js';
import { until } from './support/wait.js';

/** Runs a fixture; resolves when it exits, rejects if it has not exited after `timeoutMs` (then kills it). */
function runFixture(name: string, args: string[] = [], timeoutMs = 25_000, nodeFlags: string[] = []): Promise<NodeRun> {
  return runNode([...nodeFlags, join(__dirname, 'fixtures', name), ...args], name, timeoutMs);
}

describe('process lifetime', () => {
  it('exits on its own once everything is closed', async () => {
    const run = startNode(join(__dirname, 'fixtures', 'exits-after-close.cjs'), []);
    try {
      await run.line(/^closed \d+$/);
      // A bounded wait, not a performance figure: nothing (a thread, a handle, a pending callback)
      // may hold the process once all is closed.
      await until(() => run.child.exitCode !== null, 'the process exits on its own once everything is closed', 5_000);
    } finally {
      await run.stop();
    }
    expect(run.errors).toEqual([]);
    expect(run.child.exitCode).toBe(0);
  });

  it('await warmUp() (plugins, certificates and a rehearsal connection of its own) leaves nothing running, and takes no name from the first WebRtcBin', async () => {
    const script = `
      const { warmUp, WebRtcBin } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'cjs', 'index.js'))});
      (async () => {
        await Promise.all([warmUp(), warmUp()]);
        const webrtcbin = new WebRtcBin();
        console.log(webrtcbin.element.name);
        webrtcbin.close();
      })();`;
    const run = await runNode(['-e', script], 'warm-up', 20_000);
    expect(run).toMatchObject({ code: 0, signal: null, stdout: 'webrtcbin0\n', stderr: '' });
  });

  it('a playing pipeline keeps the process alive until it ends and is closed', async () => {
    const run = await runFixture('stays-alive-while-playing.cjs');
    expect(run.code).toBe(0);
    // 60 buffers of live 30 fps video take two seconds; without the pipeline holding
    // the event loop open the process would have exited right after 'playing'.
    expect(run.stdout).toBe('playing\neos after 60 frames\n');
  });

  it('a stopped pipeline does not keep the process alive, and cleanup at exit does not crash', async () => {
    const run = await runFixture('exits-when-stopped.cjs');
    expect(run).toMatchObject({ code: 0, signal: null, stdout: 'stopped\n' });
  });

  it('process.exit() while two WebRtcBins stream exits cleanly', async () => {
    const run = await runFixture('exit-while-streaming.cjs');
    expect(run).toMatchObject({ code: 0, signal: null, stdout: 'exiting\n' });
  });
});

describe('worker_threads', () => {
  it('streams in a worker that closes its WebRtcBins, then in the main thread', async () => {
    const run = await runFixture('worker-loopback.cjs', ['close']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^worker: frames \d+\nworker: closed\nmain thread streamed too\n$/);
  });

  it('survives a worker terminated mid-stream (environment cleanup), and the main thread still works', async () => {
    const run = await runFixture('worker-loopback.cjs', ['terminate']);
    expect(run.code).toBe(0);
    expect(run.signal).toBeNull();
    expect(run.stdout).toMatch(/^worker: frames \d+\nterminated\nmain thread streamed too\n$/);
  });
});

describe('leaks', () => {
  it('create/negotiate/stream/close cycles return fds and threads to the baseline', async () => {
    const run = await runFixture('leak-cycles.cjs', ['10'], 60_000, ['--expose-gc']);
    expect(run.code).toBe(0);
    const { baseline, after } = JSON.parse(run.stdout) as Record<'baseline' | 'after', { fds: number; threads: number; rss: number }>;
    // No more than at the baseline (GLib's pools may also have let idle threads go since).
    expect(after.fds).toBeLessThanOrEqual(baseline.fds);
    expect(after.threads).toBeLessThanOrEqual(baseline.threads);
    // 10 cycles of 2 peers each: a leaked peer costs megabytes (buffers, codecs, DTLS state).
    expect(after.rss - baseline.rss).toBeLessThan(20 * 1024 * 1024);
  });
});
