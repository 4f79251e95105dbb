// Request pads and links made on the pipeline's native thread (Branches.requestPadLater,
// linkLater), as a fan-out wires its viewers: media flows through them, and failures
// reject with a typed error instead of throwing on the JS thread.
import { afterEach, describe, expect, it } from 'vitest';

import { branchesOf } from '../lib/core/branch.js';
import { ErrorCode } from '../lib/core/error-codes.js';
import { GstError, Pipeline } from '../lib/index.js';
import { rendered } from './support/media.js';
import { until } from './support/wait.js';

const open: Pipeline[] = [];
afterEach(() => {
  for (const pipeline of open.splice(0)) pipeline.close();
});

function teePipeline(): Pipeline {
  const pipeline = new Pipeline('videotestsrc is-live=true ! video/x-raw,width=64,height=48,framerate=30/1 ! tee name=t allow-not-linked=true');
  open.push(pipeline);
  return pipeline;
}

describe('Branches.requestPadLater and linkLater', () => {
  it('request a tee pad and link it to a branch made on the native thread too; frames reach the branch', async () => {
    const pipeline = teePipeline();
    await pipeline.play();
    const branches = branchesOf(pipeline);
    // Downstream first, as a fan-out does: a tee pad feeds only a branch that already plays.
    const { element: branch, created } = branches.addBinLater('queue ! fakesink name=frames sync=false');
    const started = branches.start(branch);
    const { pad, created: requested } = branches.requestPadLater(pipeline.getElement('t')!.native, 'src_%u');
    const linked = branches.linkLater(pad, branch);
    await Promise.all([created, started, requested, linked]);
    expect(pad.get('name')).toMatch(/^src_\d+$/);
    await until(() => rendered(pipeline, 'frames') >= 5, 'frames through the pad requested later');
    // A keyframe request through a pad made this way is accepted (sent from a GStreamer thread).
    expect(branches.forceKeyUnit(pad)).toBe(true);
  });

  it('rejects with GstError for a template the element does not have, and so does a link to that pad', async () => {
    const pipeline = teePipeline();
    const branches = branchesOf(pipeline);
    const tee = pipeline.getElement('t')!.native;
    const { pad, created } = branches.requestPadLater(tee, 'nope_%u');
    const linked = branches.linkLater(pad, tee);
    const [requestError, linkError] = await Promise.all([created.catch((error: unknown) => error), linked.catch((error: unknown) => error)]);
    expect(requestError).toBeInstanceOf(GstError);
    expect((requestError as GstError).code).toBe(ErrorCode.NoSuchPad);
    // The link fails with the request's error if that had failed when linkLater() was called, else when it runs.
    expect(linkError).toBeInstanceOf(GstError);
    expect([ErrorCode.NoSuchPad, ErrorCode.LinkFailed]).toContain((linkError as GstError).code);
    expect(branches.forceKeyUnit(pad)).toBe(false);
  });

  it('checks its arguments with TypeError', () => {
    const pipeline = teePipeline();
    const branches = branchesOf(pipeline);
    const tee = pipeline.getElement('t')!.native;
    expect(() => branches.requestPadLater(null as never, 'src_%u')).toThrow(TypeError);
    expect(() => branches.requestPadLater(tee, 1 as never)).toThrow(TypeError);
    return expect(branches.linkLater({} as never, tee)).rejects.toBeInstanceOf(TypeError);
  });
});
