// The per-packet delay signal of the congestion controller: how fast the
// queue in front of the bottleneck grows, from each packet's send and arrival
// times (TWCC feedback). Written here from the idea GCC's arrival-time filter
// rests on (draft-ietf-rmcat-gcc-02, section 5.3: the one-way delay variation
// between groups of packets) with a least-squares slope over recent groups in
// place of the draft's Kalman filter, as later GCC descriptions do.

/** Packets sent within this many ms of a group's first packet belong to it (a paced frame's burst). */
const GROUP_MS = 5;
/** Exponential smoothing of the accumulated delay (weight of the previous value). */
const SMOOTHING = 0.9;
/** The slope is fitted over this many recent groups. */
const WINDOW_GROUPS = 20;
/** ...and needs at least this many. */
const MIN_GROUPS = 5;
/**
 * The slope (ms of delay per ms) becomes a signal comparable with the over-use
 * detector's threshold (ms) when multiplied by the number of deltas behind it,
 * up to this many, and by SIGNAL_GAIN: a queue growing 1 ms per 100 ms over 20
 * groups reads as 0.8 ms, one growing 10 ms per 100 ms as 8 ms.
 */
const MAX_DELTAS = 60;
const SIGNAL_GAIN = 4;

interface Group {
  /** Send time of the group's first and last packet, arrival time of its last, ms. */
  firstSent: number;
  lastSent: number;
  arrived: number;
}

/**
 * Takes received packets in send order and tells, after each completed group,
 * the trend of the queuing delay (see MAX_DELTAS), or null before it knows.
 * Positive: the queue grows; negative: it drains.
 */
export class DelayTrend {
  private group: Group | null = null;
  private previous: Group | null = null;
  private accumulated = 0;
  private smoothed = 0;
  private deltas = 0;
  private firstArrival: number | null = null;
  private readonly points: { x: number; y: number }[] = [];
  private latest: number | null = null;

  /** The last signal, or null before MIN_GROUPS groups. */
  get signal(): number | null {
    return this.latest;
  }

  /** One received packet (times in ms; send times never decrease). Returns true when it completed a group. */
  add(sentMs: number, arrivedMs: number): boolean {
    const group = this.group;
    if (group === null) {
      this.group = { firstSent: sentMs, lastSent: sentMs, arrived: arrivedMs };
      return false;
    }
    if (sentMs - group.firstSent <= GROUP_MS) {
      group.lastSent = Math.max(group.lastSent, sentMs);
      group.arrived = Math.max(group.arrived, arrivedMs);
      return false;
    }
    this.complete(group);
    this.group = { firstSent: sentMs, lastSent: sentMs, arrived: arrivedMs };
    return true;
  }

  private complete(group: Group): void {
    const previous = this.previous;
    this.previous = group;
    if (previous === null) return;
    const arrivalDelta = group.arrived - previous.arrived;
    // Reordered across groups: the pair says nothing about the queue.
    if (arrivalDelta < 0) return;
    this.accumulated += arrivalDelta - (group.lastSent - previous.lastSent);
    this.smoothed = SMOOTHING * this.smoothed + (1 - SMOOTHING) * this.accumulated;
    this.deltas = Math.min(this.deltas + 1, MAX_DELTAS);
    this.firstArrival ??= group.arrived;
    this.points.push({ x: group.arrived - this.firstArrival, y: this.smoothed });
    if (this.points.length > WINDOW_GROUPS) this.points.shift();
    if (this.points.length < MIN_GROUPS) return;
    const slope = leastSquaresSlope(this.points);
    if (slope !== null) this.latest = slope * this.deltas * SIGNAL_GAIN;
  }
}

function leastSquaresSlope(points: { x: number; y: number }[]): number | null {
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / points.length;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / points.length;
  let covariance = 0;
  let variance = 0;
  for (const p of points) {
    covariance += (p.x - meanX) * (p.y - meanY);
    variance += (p.x - meanX) ** 2;
  }
  return variance > 0 ? covariance / variance : null;
}
