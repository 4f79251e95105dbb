// The per-viewer bandwidth estimate: GCC's delay-based and loss-based
// controllers over the feedback one sender gets, the lower of the two, within
// the configured limits.
import { DelayBasedRate } from './delay-based-rate.js';
import { LossBasedRate } from './loss-based-rate.js';
import type { CongestionLimits } from './options.js';
import { OveruseDetector, type BandwidthUsage } from './overuse-detector.js';
import type { FeedbackSample } from './transport-feedback.js';

/**
 * Why the target bitrate changed: `'delay'` the queue on the path grew (the
 * delay gradient over-used), `'loss'` the receiver reported loss over 10%,
 * `'increase'` the link carried the last rate without congestion.
 */
export type BitrateChangeReason = 'delay' | 'loss' | 'increase';

/** A new target bitrate and why. */
export interface BitrateChange {
  /** The target, in bit/s. */
  bitrate: number;
  reason: BitrateChangeReason;
}

/** Changes smaller than this share of the bitrate are not reported (nor sent to the encoder). */
const REPORTED_CHANGE = 0.05;

/**
 * Turns feedback samples into a target bitrate. Pure logic, driven by the
 * samples' times: CongestionController feeds it from getStats().
 */
export class BandwidthEstimator {
  private readonly detector = new OveruseDetector();
  private readonly delayBased: DelayBasedRate;
  private readonly lossBased: LossBasedRate;
  private reported: number;
  private roundTripMs = 100;

  /**
   * @param boundByReceiveRate true when the estimate drives an encoder (it may
   *   not run far ahead of what the receiver gets); false for a layer ladder,
   *   whose switches up are the probes.
   */
  constructor(
    private readonly limits: CongestionLimits,
    private readonly boundByReceiveRate = true,
  ) {
    this.delayBased = new DelayBasedRate(limits.startBitrate);
    this.lossBased = new LossBasedRate(limits.startBitrate);
    this.reported = limits.startBitrate;
  }

  /** The current estimate, bit/s, within the limits. */
  get bitrate(): number {
    return Math.min(this.limits.maxBitrate, Math.max(this.limits.minBitrate, Math.min(this.delayBased.bitrate, this.lossBased.bitrate)));
  }

  /** What the delay signal said last. */
  get usage(): BandwidthUsage {
    return this.detector.usage;
  }

  /** Takes one sample; returns a change worth acting on (5% or more since the last one), or null. */
  update(sample: FeedbackSample): BitrateChange | null {
    if (sample.roundTripMs !== null) this.roundTripMs = sample.roundTripMs;
    const { minBitrate, maxBitrate } = this.limits;
    let reason: BitrateChangeReason | null = null;
    const feedback = sample.transportFeedback;
    if (feedback !== null) {
      const usage = this.detector.update(feedback.delayGradientMs, sample.time);
      const step = this.delayBased.update(usage, feedback.bitrateReceived, this.roundTripMs, sample.time, this.boundByReceiveRate);
      if (step === 'decrease') reason = 'delay';
    }
    // Loss: TWCC's own count when there is one (every feedback), else the receiver report's.
    const loss = feedback?.lossFraction ?? sample.receiverReport?.lossFraction;
    if (loss !== undefined) {
      if (this.lossBased.update(loss, feedback?.bitrateReceived ?? null, this.roundTripMs, sample.time) === 'decrease') reason ??= 'loss';
    }
    this.delayBased.clamp(minBitrate, maxBitrate);
    this.lossBased.clamp(minBitrate, maxBitrate);
    const bitrate = this.bitrate;
    const change = Math.abs(bitrate - this.reported) / this.reported;
    const atLimit = bitrate !== this.reported && (bitrate === minBitrate || bitrate === maxBitrate);
    if (change < REPORTED_CHANGE && !atLimit) return null;
    const direction: BitrateChangeReason = bitrate > this.reported ? 'increase' : (reason ?? 'delay');
    this.reported = bitrate;
    return { bitrate: Math.round(bitrate), reason: direction };
  }
}
