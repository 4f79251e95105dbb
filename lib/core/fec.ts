// Forward error correction for video: ULPFEC (RFC 5109) carried in RED
// (RFC 2198), the scheme browsers negotiate as `red` and `ulpfec`. webrtcbin
// 1.22 does the work (rtpulpfecenc and rtpredenc on each input, rtpreddec and
// rtpulpfecdec on each received stream); a transceiver's `fec-type` makes it
// offer the two formats, or accept them in an answer, and `fec-percentage`
// sets how much protection is sent. See docs/loss-recovery.md.
import type { NativeObject } from './native.js';

/** ULPFEC in RED for a video transceiver. */
export interface FecOptions {
  /** The scheme: ULPFEC (RFC 5109) packets in RED (RFC 2198), as browsers negotiate `red` and `ulpfec`. */
  type: 'ulpfec-red';
  /**
   * FEC overhead, in percent of the media packets: 100 sends one FEC packet
   * per media packet, 20 one per five. An integer from 0 to 100; default 20
   * (see docs/loss-recovery.md for the measurement behind it). Receiving needs
   * none: the percentage applies to what this side sends.
   */
  percentage?: number;
}

/** See FecOptions.percentage. */
export const DEFAULT_FEC_PERCENTAGE = 20;

/** A checked `fec` option: the percentage to send with, or null for FEC off. */
export type FecSetting = { percentage: number } | null;

/**
 * Checks a `fec` option: undefined (not given), null or false (off), or
 * FecOptions. Returns undefined when not given.
 * @throws TypeError for anything else.
 */
export function checkFec(fec: unknown, name = 'fec'): FecSetting | undefined {
  if (fec === undefined) return undefined;
  if (fec === null || fec === false) return null;
  if (typeof fec !== 'object') throw new TypeError(`${name} must be { type: 'ulpfec-red', percentage? }, null or false, not ${JSON.stringify(fec)}`);
  const { type, percentage } = fec as FecOptions;
  if (type !== 'ulpfec-red') throw new TypeError(`${name}.type must be 'ulpfec-red', not ${JSON.stringify(type)}`);
  if (percentage !== undefined && (!Number.isInteger(percentage) || percentage < 0 || percentage > 100)) {
    throw new TypeError(`${name}.percentage must be an integer from 0 to 100, not ${JSON.stringify(percentage)}`);
  }
  return { percentage: percentage ?? DEFAULT_FEC_PERCENTAGE };
}

/**
 * Sets a webrtcbin transceiver's FEC. Off is `fec-type` none with
 * `fec-percentage` 0: webrtcbin's own default percentage is 100, so a 0 also
 * marks a transceiver whose FEC was turned off on purpose (see hasFecChoice).
 */
export function applyFec(transceiver: NativeObject, setting: FecSetting): void {
  transceiver.set('fec-type', setting === null ? 'none' : 'ulp-red');
  transceiver.set('fec-percentage', setting === null ? 0 : setting.percentage);
}

/** Whether FEC was set on this transceiver, on or off (applyFec), rather than left as webrtcbin made it. */
export function hasFecChoice(transceiver: NativeObject): boolean {
  return transceiver.get('fec-type') !== 'none' || transceiver.get('fec-percentage') !== 100;
}
