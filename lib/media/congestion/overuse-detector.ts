// The over-use detector of Google Congestion Control (draft-ietf-rmcat-gcc-02,
// section 5.4), written from the draft: a delay-gradient signal is compared
// with a threshold that adapts to it, so that the detector neither starves
// against loss-based flows (a threshold too low) nor misses a queue that grows
// (one too high).

/** What the delay signal says about the link. */
export type BandwidthUsage = 'normal' | 'overusing' | 'underusing';

/** The draft's constants: initial threshold and its bounds (ms), and how fast it follows the signal up and down. */
const INITIAL_THRESHOLD_MS = 12.5;
const MIN_THRESHOLD_MS = 6;
const MAX_THRESHOLD_MS = 600;
const K_UP = 0.01;
const K_DOWN = 0.00018;
/** Signals further than this above the threshold are spikes (a key frame, a scheduling hiccup): they do not move it. */
const MAX_ADAPT_OFFSET_MS = 15;
/** The draft adapts with the time since the last update, capped so that a late report does not swing the threshold. */
const MAX_ADAPT_STEP_MS = 100;

/**
 * Classifies each delay-gradient sample (the change of queuing delay over a
 * feedback window, in milliseconds) as normal, over-using or under-using.
 * Over-use needs the signal above the threshold in two reports in a row and
 * not falling (the draft asks for 10 ms of sustained over-use; reports here
 * come every RTCP feedback, so two in a row is the shortest "sustained"), or
 * one report far above it.
 */
export class OveruseDetector {
  private thresholdMs = INITIAL_THRESHOLD_MS;
  private lastUpdate: number | null = null;
  private previousSignal = 0;
  private aboveCount = 0;
  private current: BandwidthUsage = 'normal';

  /** The adaptive threshold, in milliseconds. */
  get threshold(): number {
    return this.thresholdMs;
  }

  /** The last classification. */
  get usage(): BandwidthUsage {
    return this.current;
  }

  /** Takes one sample at `now` (ms) and returns the classification. */
  update(signalMs: number, now: number): BandwidthUsage {
    if (signalMs > this.thresholdMs) {
      this.aboveCount++;
      const sustained = this.aboveCount >= 2 && signalMs >= this.previousSignal;
      if (sustained || signalMs > 3 * this.thresholdMs) this.current = 'overusing';
    } else {
      this.aboveCount = 0;
      this.current = signalMs < -this.thresholdMs ? 'underusing' : 'normal';
    }
    this.adaptThreshold(signalMs, now);
    this.previousSignal = signalMs;
    return this.current;
  }

  private adaptThreshold(signalMs: number, now: number): void {
    const elapsed = this.lastUpdate === null ? 0 : Math.min(now - this.lastUpdate, MAX_ADAPT_STEP_MS);
    this.lastUpdate = now;
    const magnitude = Math.abs(signalMs);
    if (magnitude - this.thresholdMs > MAX_ADAPT_OFFSET_MS) return;
    const gain = magnitude > this.thresholdMs ? K_UP : K_DOWN;
    this.thresholdMs += elapsed * gain * (magnitude - this.thresholdMs);
    this.thresholdMs = Math.min(MAX_THRESHOLD_MS, Math.max(MIN_THRESHOLD_MS, this.thresholdMs));
  }
}
