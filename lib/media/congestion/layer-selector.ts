// Which layer of a fan-out's encodes one viewer gets, from its bandwidth estimate.

/** A switch up must be earned: the estimate above the next layer's bitrate this long. */
const UP_HOLD_MS = 2000;
/** A switch up that congested within this long was a failed probe: the next wait is doubled. */
const FAILED_PROBE_MS = 5000;
const MAX_UP_HOLD_MS = 30_000;

/**
 * Picks the best layer a viewer's link carries. Layers are ordered best
 * (highest bitrate) first. Down: as soon as the estimate is under the current
 * layer's bitrate, to the best layer under the estimate (the lowest when none
 * is). Up: one step at a time, once the estimate has stayed at or above the
 * next layer's bitrate for 2 s; a switch up followed by congestion within 5 s
 * doubles that wait (up to 30 s), so a viewer whose link cannot carry the
 * next layer is not switched back and forth.
 */
export class LayerSelector {
  private current: number;
  private aboveSince: number | null = null;
  private upHoldMs = UP_HOLD_MS;
  private lastUp = -Infinity;

  /** @param bitrates the layers' bitrates, best first; @param start the estimate to start from. */
  constructor(
    private readonly bitrates: readonly number[],
    start: number,
  ) {
    this.current = this.bestUnder(start);
  }

  /** The layer in use (0 is the best). */
  get layer(): number {
    return this.current;
  }

  /** Takes a new estimate at `now` (ms), saying whether it came from congestion; returns the layer to use. */
  update(estimate: number, congested: boolean, now: number): number {
    if (congested && now - this.lastUp < FAILED_PROBE_MS) this.upHoldMs = Math.min(MAX_UP_HOLD_MS, this.upHoldMs * 2);
    if (estimate < this.bitrates[this.current]!) {
      this.current = Math.max(this.current, this.bestUnder(estimate));
      this.aboveSince = null;
      return this.current;
    }
    const next = this.current - 1;
    if (next < 0 || estimate < this.bitrates[next]!) {
      this.aboveSince = null;
      return this.current;
    }
    this.aboveSince ??= now;
    if (now - this.aboveSince >= this.upHoldMs) {
      this.current = next;
      this.aboveSince = null;
      this.lastUp = now;
    }
    return this.current;
  }

  private bestUnder(estimate: number): number {
    const index = this.bitrates.findIndex((bitrate) => bitrate <= estimate);
    return index === -1 ? this.bitrates.length - 1 : index;
  }
}
