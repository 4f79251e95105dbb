// What a viewer sees, from the times at which frames were decoded: frame rate,
// freezes (gaps over 200 ms, the definition), frozen time, and how long
// after a cap drop playback was smooth again.

/** A gap between decoded frames longer than this is a freeze. */
export const FREEZE_MS = 200;
/** Playback counts as smooth again after a cap drop once this long passes without a freeze. */
export const SMOOTH_MS = 2000;

export interface Playback {
  fps: number;
  freezes: number;
  frozenMs: number;
}

/**
 * Frame rate and freezes of frames decoded at `times` (epoch ms) within
 * [start, end]; the stretch before the first frame and after the last count
 * as gaps too (a stream that stops is frozen).
 */
export function playback(times: number[], start: number, end: number): Playback {
  const inside = times.filter((time) => time >= start && time <= end);
  let freezes = 0;
  let frozenMs = 0;
  let previous = start;
  for (const time of [...inside, end]) {
    const gap = time - previous;
    if (gap > FREEZE_MS) {
      freezes++;
      frozenMs += gap;
    }
    previous = time;
  }
  return { fps: inside.length / ((end - start) / 1000), freezes, frozenMs };
}

/**
 * Milliseconds from `from` (a cap drop) to the start of the first stretch of
 * SMOOTH_MS without a freeze, before `until`; null when playback never got smooth.
 */
export function smoothAfter(times: number[], from: number, until: number): number | null {
  const inside = times.filter((time) => time >= from && time <= until);
  let stretchStart = from;
  let previous = from;
  for (const time of inside) {
    if (time - previous > FREEZE_MS) stretchStart = time;
    previous = time;
    if (time - stretchStart >= SMOOTH_MS) return stretchStart - from;
  }
  return null;
}

/** Bit/s between consecutive (epoch ms, bytes) samples, as [time, rate] pairs. */
export function rates(samples: [number, number][]): [number, number][] {
  const result: [number, number][] = [];
  for (let i = 1; i < samples.length; i++) {
    const [t0, b0] = samples[i - 1];
    const [t1, b1] = samples[i];
    if (t1 > t0) result.push([t1, ((b1 - b0) * 8 * 1000) / (t1 - t0)]);
  }
  return result;
}

/** Mean bit/s delivered within [start, end] from cumulative byte samples. */
export function meanRate(samples: [number, number][], start: number, end: number): number {
  const inside = samples.filter(([time]) => time >= start && time <= end);
  if (inside.length < 2) return 0;
  const [t0, b0] = inside[0];
  const [t1, b1] = inside[inside.length - 1];
  return ((b1 - b0) * 8 * 1000) / (t1 - t0);
}

/**
 * Milliseconds from `from` (a cap lift) until the delivered rate first reaches
 * `target` bit/s, before `until`; null when it does not.
 */
export function rateReached(samples: [number, number][], target: number, from: number, until: number): number | null {
  for (const [time, rate] of rates(samples)) if (time > from && time <= until && rate >= target) return time - from;
  return null;
}
