// Cells for the network figures' tables: null where a side was not measured.

/** `value` rounded to `digits` decimals, null when absent or not finite. */
export function round(value: number | undefined | null, digits: number): number | null {
  if (value === undefined || value === null || !Number.isFinite(value)) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** ours / reference to two decimals, null when either is absent or the reference is 0. */
export function ratio(ours: number | undefined, reference: number | undefined): number | null {
  if (ours === undefined || reference === undefined || reference === 0) return null;
  return round(ours / reference, 2);
}
