// Issue 10's inputs and call orders that aborted, froze or crashed the process.
// Each runs in a child process (test/fixtures/fuzz/regression-case.cjs, on the
// built package in dist/): an abort or a hang fails the test here instead of
// killing the runner. Each must end in a typed error that says what was wrong,
// with the object still usable afterwards.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { runNode } from './support/node-child.js';

interface CaseRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  result: Record<string, unknown>;
  stderr: string;
}

interface ErrorSummary {
  name: string;
  message: string;
}

/** Runs one case; a child still running after `timeoutMs` is killed and counted as a hang. */
async function runCase(name: string, timeoutMs = 25_000): Promise<CaseRun> {
  const run = await runNode([join(__dirname, 'fixtures', 'fuzz', 'regression-case.cjs'), name], `case ${name}`, timeoutMs);
  let result: Record<string, unknown> = {};
  try {
    result = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  } catch {
    // left empty: the assertions on code and signal say what happened
  }
  return { code: run.code, signal: run.signal, result, stderr: run.stderr };
}

async function expectCleanRun(name: string): Promise<Record<string, unknown>> {
  const run = await runCase(name);
  expect({ code: run.code, signal: run.signal, failed: run.result.failed }, run.stderr).toEqual({ code: 0, signal: null, failed: undefined });
  expect(run.stderr).not.toMatch(/CRITICAL|assertion|Bail out/);
  expect(run.result.usable).toBe(true);
  return run.result;
}

describe('issue 10 regressions (each in a child process)', () => {
  it('1: a re-offer with reordered m-lines is an OperationError, and the same order still negotiates', async () => {
    const result = await expectCleanRun('reordered-reoffer');
    expect(result.error).toMatchObject({ name: 'OperationError', message: expect.stringMatching(/m-lines must keep their order/) });
    expect(result.stateAfter).toBe('stable');
  });

  it('2: a=ice-pwd twice at session level is an OperationError, and nothing is applied', async () => {
    const result = await expectCleanRun('duplicate-ice-pwd');
    expect(result.error).toMatchObject({ name: 'OperationError', message: expect.stringMatching(/ice-pwd 2 times at the session level/) });
    expect(result.remoteAfter).toBeNull();
  });

  it('3: createOffer() while answering is an InvalidStateError; after setLocalDescription it works', async () => {
    const result = await expectCleanRun('offer-while-answering');
    expect(result.error).toMatchObject({ name: 'InvalidStateError', message: expect.stringMatching(/have-remote-offer/) });
  });

  it('4: descriptions that crash gst_parse_launch are GstErrors through every entry point', async () => {
    const result = await expectCleanRun('parser-self-link');
    const errors = result.errors as Record<string, ErrorSummary>;
    for (const entry of ['pipeline', 'add', 'addTrack']) {
      expect(errors[entry], entry).toMatchObject({ name: 'GstError', message: expect.stringMatching(/could not set property "num-buffers"/) });
    }
    expect(errors.unknownProperty).toMatchObject({ name: 'GstError', message: expect.stringMatching(/no property "foo"/) });
    expect(errors.missingElement).toMatchObject({ name: 'MissingDependencyError', message: expect.stringMatching(/nosuchelement/) });
  });

  it("5: another peer's answer as the local description is an OperationError; our own answer then works", async () => {
    const result = await expectCleanRun('foreign-local-answer');
    expect(result.error).toMatchObject({ name: 'OperationError', message: expect.stringMatching(/not those of the last answer this WebRtcBin created/) });
  });

  it('6: close() while createOffer() waits for caps rejects it with InvalidStateError and leaves no timer behind', async () => {
    const result = await expectCleanRun('close-while-waiting-for-caps');
    expect(result.error).toMatchObject({ name: 'InvalidStateError' });
  });

  it('7: a cyclic or 100,000-deep object as a structure is a TypeError, not a stack overflow', async () => {
    const result = await expectCleanRun('cyclic-structure');
    const errors = result.errors as Record<string, ErrorSummary>;
    expect(errors.cyclic).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/cycl/) });
    expect(errors.deep).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/nested/) });
  });

  it('fuzzer: caps and structure text with invalid names are TypeErrors, without a CRITICAL', async () => {
    const result = await expectCleanRun('invalid-structure-names');
    const errors = result.errors as Record<string, ErrorSummary>;
    for (const entry of ['caps', 'nestedCaps', 'structure']) expect(errors[entry], entry).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/must start with a letter/) });
  });

  it('fuzzer: a property given twice to one element is a GstError through every entry point, without a CRITICAL', async () => {
    const result = await expectCleanRun('duplicate-property');
    const errors = result.errors as Record<string, ErrorSummary>;
    for (const entry of ['pipeline', 'add', 'addTrack']) expect(errors[entry], entry).toMatchObject({ name: 'GstError', message: expect.stringMatching(/sets name twice/) });
  });

  it('fuzzer: a negotiated data channel id before the association is up is an OperationError, without a CRITICAL', async () => {
    const result = await expectCleanRun('data-channel-id-before-association');
    expect(result.error).toMatchObject({ name: 'OperationError', message: expect.stringMatching(/association is not up yet/) });
  });

  it("fuzzer: the all-pads link ':' and a ')' closing a branch's bin are GstErrors, set('parent') a TypeError, without a crash or a CRITICAL", async () => {
    const result = await expectCleanRun('parser-links-and-parents');
    const errors = result.errors as Record<string, ErrorSummary>;
    expect(errors.linkAll).toMatchObject({ name: 'GstError', message: expect.stringMatching(/all-pads link/) });
    expect(errors.linkAllPads).toMatchObject({ name: 'GstError', message: expect.stringMatching(/all-pads link/) });
    expect(errors.closesBin).toMatchObject({ name: 'GstError', message: expect.stringMatching(/unbalanced/) });
    expect(errors.parent).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/parent/) });
  });
});
