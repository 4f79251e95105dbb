// Streaming a large file through one data channel, paced by bufferedAmount, between two WebRtcBins in this process.
import { createHash, randomBytes } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import type { DataChannel } from '../lib/index.js';
import { openChannelPair } from './support/data-channel.js';
import { nextEvent } from './support/wait.js';

const open: { close(): void }[] = [];
afterEach(() => {
  for (const thing of open.splice(0)) thing.close();
});

const MiB = 1024 * 1024;
const TOTAL = 64 * MiB;
const CHUNK = 64 * 1024;
/** The sender stops queueing above this many buffered bytes... */
const HIGH_WATER = 1 * MiB;
/** ...and resumes when bufferedamountlow says it fell to this. */
const LOW_WATER = 256 * 1024;

/**
 * Resolves `done` with the SHA-256 of everything received once `total` bytes
 * arrived; `bytes()` tells how far it got.
 */
function receiveAll(channel: DataChannel, total: number): { done: Promise<{ sha256: string; messages: number }>; bytes(): number } {
  const hash = createHash('sha256');
  let received = 0;
  let messages = 0;
  const done = new Promise<{ sha256: string; messages: number }>((resolve, reject) => {
    channel.on('message', (data) => {
      if (!Buffer.isBuffer(data)) return reject(new Error('a text message arrived in a binary stream'));
      hash.update(data);
      received += data.length;
      messages++;
      if (received === total) resolve({ sha256: hash.digest('hex'), messages });
      if (received > total) reject(new Error(`received ${received} bytes, more than the ${total} sent`));
    });
    channel.on('close', () => reject(new Error(`the channel closed after ${received} of ${total} bytes`)));
  });
  // A test that already failed closes the channel: that rejection is not a second failure.
  done.catch(() => undefined);
  return { done, bytes: () => received };
}

describe('streaming through a data channel', () => {
  it('sends 64 MiB paced by bufferedAmount: everything arrives byte-exact and the send queue stays bounded', async () => {
    const { a, b, local, remote } = await openChannelPair('file');
    open.push(a, b);
    const received = receiveAll(remote, TOTAL);

    const baselineRss = process.memoryUsage().rss;
    let peakRss = baselineRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

    local.bufferedAmountLowThreshold = LOW_WATER;
    // Like a file read into one reusable buffer: random content, each chunk made unique by its index.
    const source = randomBytes(4 * MiB);
    const chunk = Buffer.alloc(CHUNK);
    const sent = createHash('sha256');
    let peakBuffered = 0;
    let pauses = 0;
    try {
      for (let offset = 0; offset < TOTAL; offset += CHUNK) {
        if (local.bufferedAmount > HIGH_WATER) {
          pauses++;
          await nextEvent(local, 'bufferedamountlow').catch((error: Error) => {
            // Tells a lost event (everything sent arrived) from a stalled association.
            throw new Error(`${error.message}: ${offset} bytes sent, ${received.bytes()} received, bufferedAmount ${local.bufferedAmount}`);
          });
        }
        source.copy(chunk, 0, offset % source.length, (offset % source.length) + CHUNK);
        chunk.writeUInt32BE(offset / CHUNK, 0);
        local.send(chunk); // send() copies, so the buffer can be refilled at once
        sent.update(chunk);
        peakBuffered = Math.max(peakBuffered, local.bufferedAmount);
      }
      const result = await received.done;
      expect(result.sha256).toBe(sent.digest('hex'));
      expect(result.messages).toBe(TOTAL / CHUNK);
    } finally {
      clearInterval(sampler);
    }
    // bufferedAmount is real: the sender outran the network and had to wait.
    expect(pauses).toBeGreaterThan(0);
    expect(peakBuffered).toBeLessThanOrEqual(HIGH_WATER + CHUNK);
    // Both ends live in this process (received messages wait for the garbage
    // collector), yet together they never held the 64 MiB streamed.
    expect(peakRss - baselineRss).toBeLessThan(TOTAL);
    console.log(`64 MiB streamed; peak bufferedAmount ${peakBuffered} bytes, ${pauses} pauses, RSS +${((peakRss - baselineRss) / MiB).toFixed(1)} MiB`);
  });
});
