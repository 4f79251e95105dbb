// A fan-out's keyframes on demand: viewers joining together do not make the
// encoder send a keyframe each; at most one request per keyframeRequestInterval
// reaches it, and every viewer still starts its picture from one of them.
import { afterEach, describe, expect, it } from 'vitest';

import { MediaFanOut } from '../lib/index.js';
import { receive, type Receiver } from './support/receiver.js';
import { until } from './support/wait.js';

const open: { close(): void }[] = [];
afterEach(() => {
  for (const thing of open.splice(0).reverse()) thing.close();
});

describe('MediaFanOut keyframe requests', () => {
  it('five viewers joining together get their first pictures from at most one keyframe per interval', async () => {
    const interval = 1000;
    // No natural keyframe after the first: every viewer's picture starts at a requested one.
    const fanOut = new MediaFanOut({ video: { source: 'videotestsrc is-live=true ! video/x-raw,width=320,height=240', codec: 'VP8', keyframeInterval: 1_000_000 }, keyframeRequestInterval: interval });
    open.push(fanOut);
    await fanOut.start();
    const started = performance.now();
    const receivers: Receiver[] = await Promise.all(Array.from({ length: 5 }, () => receive(fanOut.addViewer())));
    open.push(...receivers);
    await until(() => receivers.every((receiver) => receiver.videoFrames >= 15), 'every viewer decodes', 30_000);
    const elapsed = performance.now() - started;
    const { passed, held } = fanOut.keyframeRequests;
    // Each viewer asks twice (when linked, and when connected): ten requests, most of them held.
    expect(passed + held).toBeGreaterThanOrEqual(10);
    expect(held).toBeGreaterThan(0);
    expect(passed).toBeLessThanOrEqual(Math.floor(elapsed / interval) + 1);
  });
});
