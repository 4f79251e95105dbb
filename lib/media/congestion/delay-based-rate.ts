// The delay-based rate controller of Google Congestion Control
// (draft-ietf-rmcat-gcc-02, section 5.5), written from the draft: additive
// increase / multiplicative decrease driven by the over-use detector.
import type { BandwidthUsage } from './overuse-detector.js';

/** The draft's decrease factor: on over-use, the rate goes to this share of what the receiver got. */
const BETA = 0.85;
/** Multiplicative increase far from the last congestion point: 8% per second. */
const INCREASE_PER_SECOND = 1.08;
/** The draft bounds the estimate by the receive rate, so an application-limited sender does not inflate it. */
const RECEIVE_RATE_HEADROOM = 1.5;
/**
 * The bound looks at the highest receive rate over this long: video is bursty
 * (a keyframe is several times a delta frame), and one 300 ms window between
 * keyframes says little about what the sender needs.
 */
const RECEIVE_RATE_MEMORY_MS = 2000;
/** Packet size assumed by the additive increase (bits): one packet per response time near convergence. */
const PACKET_BITS = 1200 * 8;

/**
 * The delay-based bitrate estimate. Over-use: the rate drops to 0.85 times the
 * rate the receiver measured, at most once per response time (an RTT plus the
 * feedback window), since the queue takes that long to show the drop.
 * Under-use: hold (the queue is draining). Normal: increase, multiplicatively
 * (8%/s) while far from the rate where congestion last happened, additively
 * (one packet per response time) near it.
 */
export class DelayBasedRate {
  private rate: number;
  private lastUpdate: number | null = null;
  private lastDecrease = -Infinity;
  /** The receive rate at the last over-use: where the link's capacity was last seen. */
  private congestionRate: number | null = null;
  /** Recent receive rates with their times, for the bound. */
  private readonly receiveRates: { time: number; rate: number }[] = [];

  constructor(startBitrate: number) {
    this.rate = startBitrate;
  }

  /** The estimate, bit/s. */
  get bitrate(): number {
    return this.rate;
  }

  /**
   * Takes the detector's verdict at `now` (ms), with the rate the receiver
   * measured (bit/s, null when unknown) and the round-trip time (ms).
   * @param boundByReceiveRate whether the estimate may not run ahead of the
   *   receive rate by more than 1.5 times (true when it drives an encoder; a
   *   layer ladder probes by switching up instead).
   * Returns 'decrease' when it just cut the rate.
   */
  update(usage: BandwidthUsage, receiveRate: number | null, roundTripMs: number, now: number, boundByReceiveRate: boolean): 'decrease' | 'increase' | 'hold' {
    const elapsed = this.lastUpdate === null ? 0 : Math.max(0, now - this.lastUpdate);
    this.lastUpdate = now;
    if (receiveRate !== null && receiveRate > 0) this.receiveRates.push({ time: now, rate: receiveRate });
    while (this.receiveRates.length > 0 && now - this.receiveRates[0]!.time > RECEIVE_RATE_MEMORY_MS) this.receiveRates.shift();
    const responseMs = Math.max(300, roundTripMs + 300);
    if (usage === 'overusing') {
      if (now - this.lastDecrease < responseMs) return 'hold';
      const measured = receiveRate !== null && receiveRate > 0 ? receiveRate : this.rate;
      this.rate = Math.min(this.rate, BETA * measured);
      this.congestionRate = measured;
      this.lastDecrease = now;
      return 'decrease';
    }
    if (usage === 'underusing' || now - this.lastDecrease < responseMs) return 'hold';
    const before = this.rate;
    const nearCongestion = this.congestionRate !== null && Math.abs(before - this.congestionRate) < 0.1 * this.congestionRate;
    let increased = nearCongestion ? before + (PACKET_BITS * elapsed) / responseMs : before * INCREASE_PER_SECOND ** (elapsed / 1000);
    if (this.congestionRate !== null && increased > 1.5 * this.congestionRate) this.congestionRate = null; // the link got faster
    const recentRate = Math.max(0, ...this.receiveRates.map((entry) => entry.rate));
    // The bound stops growth away from what is actually sent; it never lowers the rate.
    if (boundByReceiveRate && recentRate > 0) increased = Math.min(increased, Math.max(before, RECEIVE_RATE_HEADROOM * recentRate + 10_000));
    this.rate = increased;
    return 'increase';
  }

  /** Clamps the estimate (to the configured range). */
  clamp(min: number, max: number): void {
    this.rate = Math.min(max, Math.max(min, this.rate));
  }
}
