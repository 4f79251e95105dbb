// The options of congestion control, shared by CongestionController and MediaFanOut.

/** Bitrate limits of congestion control, in bit/s (as W3C's `maxBitrate`). */
export interface CongestionControlOptions {
  /** The lowest target: the encoder is never set below it. Default 150,000 bit/s. */
  minBitrate?: number;
  /** The highest target. Default 2,500,000 bit/s. */
  maxBitrate?: number;
  /** The target before any feedback has arrived. Default 1,000,000 bit/s (within the limits). */
  startBitrate?: number;
  /** Milliseconds between two reads of the feedback statistics (`getStats`). Default 200. */
  pollInterval?: number;
}

/** CongestionControlOptions with every default applied. */
export interface CongestionLimits {
  minBitrate: number;
  maxBitrate: number;
  startBitrate: number;
  pollInterval: number;
}

export const DEFAULT_MIN_BITRATE = 150_000;
export const DEFAULT_MAX_BITRATE = 2_500_000;
const DEFAULT_START_BITRATE = 1_000_000;
const DEFAULT_POLL_INTERVAL_MS = 200;

/**
 * `value`, or `fallback` when it is undefined, as a positive finite number.
 * @throws TypeError naming `label` otherwise.
 */
export function positiveOption(value: unknown, fallback: number | undefined, label: string): number {
  const number = value ?? fallback;
  if (typeof number !== 'number' || !Number.isFinite(number) || number <= 0) throw new TypeError(`${label} must be a positive number`);
  return number;
}

/**
 * Checks the options and applies the defaults.
 * @throws TypeError for a value that is not a positive number, or min > max.
 */
export function congestionLimits(options: CongestionControlOptions = {}, what = 'congestionControl'): CongestionLimits {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${what} must be an object`);
  const positive = (name: keyof CongestionControlOptions, fallback: number): number => positiveOption(options[name], fallback, `${what}.${name}`);
  const minBitrate = positive('minBitrate', DEFAULT_MIN_BITRATE);
  const maxBitrate = positive('maxBitrate', Math.max(DEFAULT_MAX_BITRATE, minBitrate));
  if (minBitrate > maxBitrate) throw new TypeError(`${what}.minBitrate (${minBitrate}) is above maxBitrate (${maxBitrate})`);
  const startBitrate = positive('startBitrate', Math.min(maxBitrate, Math.max(minBitrate, DEFAULT_START_BITRATE)));
  if (startBitrate < minBitrate || startBitrate > maxBitrate) throw new TypeError(`${what}.startBitrate must be within minBitrate and maxBitrate`);
  const pollInterval = positive('pollInterval', DEFAULT_POLL_INTERVAL_MS);
  return { minBitrate, maxBitrate, startBitrate, pollInterval };
}
