// Keyframe requests from a receiving WebRtcBin: when a branch loses sync (a
// packet the jitterbuffer gave up on, a frame its decoder could not decode) it
// asks the sender for a keyframe, so the picture recovers at once rather than
// at the next natural keyframe, seconds or minutes later. GStreamer 1.22 has
// the pieces; this module puts them together for each linked video track:
// - a video decoder (GstVideoDecoder, e.g. vp8dec, avdec_h264) with
//   `automatic-request-sync-points` asks upstream for a keyframe when the
//   depayloader reports missing data (a GAP event: the jitterbuffer's lost
//   packet) and on a failed frame. By default it goes on decoding meanwhile
//   (flags `corrupt-output`, not GStreamer's `discard-input`): discarding until
//   the keyframe froze the picture for good on a capped link, where the
//   keyframe itself (a burst) was lost again and again, and under CPU load.
//   `waitForKeyframe` discards instead: the picture freezes until the keyframe;
// - a branch without a decoder (recording) has its depayloader ask
//   (`request-keyframe`) and drop what depends on the lost data
//   (`wait-for-keyframe`);
// - the requests leave the branch through a limit on the track's pad (native
//   keyframe_requests.cc): at most one per interval; webrtcbin's rtpsession
//   sends each as PLI (or FIR when the request wants headers, e.g. H.264's).
import type { Branches } from './branch.js';
import { native, type NativeObject } from './native.js';

/** The shortest time between two keyframe requests of one track by default, in milliseconds. */
export const DEFAULT_KEYFRAME_REQUEST_INTERVAL = 500;

/** Keyframe requests a track's branch made, counted where they leave it. */
export interface KeyframeRequestCounts {
  /** Requests passed on to the sender (each becomes a PLI or FIR). */
  sent: number;
  /** Requests dropped because one had been sent less than the interval before. */
  suppressed: number;
}

/** Checks a `keyframeRequestInterval` option: milliseconds (0 to 10^12), or null for none. */
export function checkKeyframeRequestInterval(interval: unknown): asserts interval is number | null | undefined {
  if (interval === undefined || interval === null) return;
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0 || interval > 1e12) {
    throw new TypeError('keyframeRequestInterval must be a number of milliseconds (0 to 10^12) or null');
  }
}

/**
 * Makes a video track's branch ask for keyframes when it loses sync, at most
 * once per `minIntervalMs` (see the top of this file). Call before the branch
 * starts: its elements are idle then, so setting their properties waits for no
 * streaming thread.
 */
export function requestKeyframesOnLoss(branches: Branches, trackPad: NativeObject, branch: NativeObject, minIntervalMs: number, waitForKeyframe = false): void {
  branches.limitKeyframeRequests(trackPad, minIntervalMs);
  const elements = native.binElements(branch);
  const decoders = elements.filter((element) => element.is('GstVideoDecoder') && element.propertyNames().includes('automatic-request-sync-points'));
  for (const decoder of decoders) {
    decoder.set('automatic-request-sync-points', true);
    decoder.set('automatic-request-sync-point-flags', waitForKeyframe ? 'discard-input+corrupt-output' : 'corrupt-output');
    // Every request reaches the pad's limit, which decides alone.
    decoder.set('min-force-key-unit-interval', 0);
  }
  if (decoders.length > 0) return;
  for (const depayloader of elements) {
    const properties = depayloader.propertyNames();
    if (!properties.includes('request-keyframe')) continue;
    depayloader.set('request-keyframe', true);
    if (properties.includes('wait-for-keyframe')) depayloader.set('wait-for-keyframe', true);
  }
}

/** What the limit on a track's pad let through and dropped; null when the track has none. */
export function keyframeRequestCounts(branches: Branches, trackPad: NativeObject): KeyframeRequestCounts | null {
  const counts = branches.keyframeRequestCounts(trackPad);
  return counts === null ? null : { sent: counts.forwarded, suppressed: counts.dropped };
}
