// The loss-based controller of Google Congestion Control
// (draft-ietf-rmcat-gcc-02, section 6), written from the draft.

/** Above this loss fraction the rate is cut. */
const HIGH_LOSS = 0.1;
/** Below this loss fraction the rate may grow. */
const LOW_LOSS = 0.02;
/** The loss of a report reflects the rate of a feedback window (300 ms) and a round trip before: no second cut within that. */
const FEEDBACK_WINDOW_MS = 300;
/** A cut never goes below this share of what the receiver measured it got (see update). */
const RECEIVE_RATE_FLOOR = 0.85;
/**
 * Growth under low loss, per second. The draft grows 5% per report, written
 * for receiver reports about a second apart; per-packet feedback reports 10
 * to 20 times a second, so the growth goes by time (as the delay-based rate's).
 */
const INCREASE_PER_SECOND = 1.08;

/**
 * The loss-based bitrate limit: loss over 10% cuts it to (1 - loss/2) times
 * itself; loss under 2% raises it by 8% per second; in between (the loss a
 * rate near capacity causes) it holds. The sender uses the lower of this and
 * the delay-based estimate.
 *
 * Two additions to the draft, when the receive rate is known (TWCC). Loss
 * that heavy means the link is saturated, so what arrives is its capacity: a
 * cut goes at least down to it (from a limit far above the estimate, the
 * draft's cuts took seconds to matter while the sender overfilled the link),
 * and stops at 0.85 times it (without that floor, the reports that still show
 * the loss of the queue draining, a round trip plus a feedback window later,
 * cut again and again, far below the capacity).
 */
export class LossBasedRate {
  private rate: number;
  private lastDecrease = -Infinity;
  private lastUpdate: number | null = null;

  constructor(startBitrate: number) {
    this.rate = startBitrate;
  }

  /** The limit, bit/s. */
  get bitrate(): number {
    return this.rate;
  }

  /**
   * Takes one report's loss fraction (0 to 1) at `now` (ms), with the rate the
   * receiver measured (bit/s, null when unknown) and the round-trip time (ms);
   * returns 'decrease' when it cut the rate.
   */
  update(lossFraction: number, receiveRate: number | null, roundTripMs: number, now: number): 'decrease' | 'increase' | 'hold' {
    const elapsed = this.lastUpdate === null ? 0 : Math.max(0, now - this.lastUpdate);
    this.lastUpdate = now;
    if (lossFraction > HIGH_LOSS) {
      if (now - this.lastDecrease < FEEDBACK_WINDOW_MS + roundTripMs) return 'hold';
      const known = receiveRate !== null && receiveRate > 0;
      // Loss this heavy: what arrives is what the link carries, so the cut goes at least to it.
      const cut = Math.min(this.rate * (1 - 0.5 * lossFraction), known ? receiveRate : Infinity);
      if (cut >= this.rate) return 'hold';
      this.rate = Math.max(cut, Math.min(this.rate, known ? RECEIVE_RATE_FLOOR * receiveRate : 0));
      this.lastDecrease = now;
      return 'decrease';
    }
    if (lossFraction < LOW_LOSS) {
      this.rate *= INCREASE_PER_SECOND ** (elapsed / 1000);
      return 'increase';
    }
    return 'hold';
  }

  /** Clamps the limit (to the configured range). */
  clamp(min: number, max: number): void {
    this.rate = Math.min(max, Math.max(min, this.rate));
  }
}
