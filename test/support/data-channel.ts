// Helpers for the data channel tests: a connected WebRtcBin pair with a channel, and message inboxes.
import { type DataChannel, type DataChannelInit, PeerConnector, WebRtcBin } from '../../lib/index.js';
import { nextEvent } from './wait.js';

/** Two connected WebRtcBins and a channel `local` on `a` whose counterpart is `remote` on `b`. */
export interface ChannelPair {
  a: WebRtcBin;
  b: WebRtcBin;
  local: DataChannel;
  remote: DataChannel;
}

/**
 * Creates two standalone WebRtcBins, a channel on the first (the offerer),
 * connects them, and resolves once both ends of the channel are open. The
 * caller closes `a` and `b`.
 */
export async function openChannelPair(label = 'test', init: DataChannelInit = {}): Promise<ChannelPair> {
  const a = new WebRtcBin();
  const b = new WebRtcBin();
  const local = a.createDataChannel(label, init);
  const announced = nextEvent<[DataChannel]>(b, 'datachannel');
  const localOpen = opened(local);
  await PeerConnector.pair(a, b);
  const [remote] = await announced;
  await Promise.all([localOpen, opened(remote)]);
  return { a, b, local, remote };
}

/** Resolves once the channel is open (at once if it already is). */
export async function opened(channel: DataChannel): Promise<void> {
  if (channel.readyState !== 'open') await nextEvent(channel, 'open');
}

/**
 * Collects messages from any source (pass `inbox.push` as the listener) and
 * lets a test wait until a number of them arrived.
 */
export class Inbox<T = string | Buffer> {
  readonly messages: T[] = [];
  private waiter: { count: number; resolve: () => void } | undefined;

  readonly push = (message: T): void => {
    this.messages.push(message);
    if (this.waiter !== undefined && this.messages.length >= this.waiter.count) {
      this.waiter.resolve();
      this.waiter = undefined;
    }
  };

  /** Total bytes received (text counted as UTF-8). */
  get bytes(): number {
    return this.messages.reduce((sum, message) => sum + (typeof message === 'string' ? Buffer.byteLength(message) : (message as Buffer).length), 0);
  }

  /** Resolves with all messages once at least `count` arrived; rejects after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 20_000): Promise<T[]> {
    if (this.messages.length < count) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          this.waiter = { count, resolve };
          timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms with ${this.messages.length} of ${count} messages`)), timeoutMs);
        });
      } finally {
        clearTimeout(timer);
      }
    }
    return this.messages;
  }

  /** Forgets the messages so far. */
  clear(): void {
    this.messages.length = 0;
  }
}

/** A buffer of `size` bytes whose content depends on `seed` and the position, so cut or reordered data is caught. */
export function patterned(size: number, seed = 0): Buffer {
  const buffer = Buffer.alloc(size);
  for (let i = 0; i < size; i++) buffer[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return buffer;
}

/** A string of exactly `bytes` UTF-8 bytes mixing 1-, 2-, 3- and 4-byte characters. */
export function utf8Text(bytes: number): string {
  const pieces = ['a', 'é', '€', '😀'];
  let text = '';
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const piece = pieces[i % pieces.length];
    const length = Buffer.byteLength(piece);
    if (size + length > bytes) {
      text += 'a'.repeat(bytes - size);
      break;
    }
    text += piece;
    size += length;
  }
  return text;
}
