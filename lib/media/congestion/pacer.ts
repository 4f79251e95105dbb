// The pacer on a sending webrtcbin's RTP path: the policy (how fast, how many
// retransmissions) follows the congestion controller's target; the waiting is
// native (native/pacer.cc), on a streaming thread of its own.
import { native, type NativeObject } from '../../core/native.js';

/**
 * Packets leave at this multiple of the target bitrate (libwebrtc's pacing
 * factor): a keyframe, several times a delta frame, spreads over a few frame
 * intervals instead of leaving as one burst that overflows the bottleneck's queue.
 */
export const PACING_FACTOR = 2.5;
/** The pacer's queue may hold this much time at its rate; above, it sends faster so that the queue drains in this time. */
export const MAX_PACING_QUEUE_MS = 500;
/** Retransmissions may take this share of the target bitrate (a budget that saves up over 250 ms). */
export const RETRANSMIT_SHARE = 0.1;
/** A packet is retransmitted at most once per round trip, and never twice within this (ms). */
export const MIN_RETRANSMIT_INTERVAL_MS = 10;
/**
 * A retransmission refused for the budget leaves the receiver waiting for that
 * packet (Chromium waits up to 3 s before it asks for a keyframe): the pacer
 * asks the encoder for a keyframe instead, at most once per this (ms).
 */
export const KEYFRAME_FOR_REFUSED_MS = 1000;

/** What a pacer did since it was made. */
export interface PacerCounts {
  /** RTP packets (media and retransmissions) that passed it, and their bytes. */
  packets: number;
  bytes: number;
  /** Total time its thread waited for send times, ms. */
  waitedMs: number;
  /** Retransmission requests (one per NACKed packet) let through to the RTX sender, and dropped. */
  retransmissionsPassed: number;
  retransmissionsDropped: number;
  /** Keyframe requests it sent to the encoder: in place of refused retransmissions, and of the backlog it dropped. */
  keyframesRequested: number;
  /** Packets dropped by skipBacklog(). */
  backlogDropped: number;
}

/**
 * Paces one webrtcbin's RTP (every RTP session it makes after this call) and
 * limits its retransmissions; `update()` sets both from a target bitrate.
 * Make it before the webrtcbin applies its first description. One streaming
 * thread per RTP session waits for each packet's send time; no JS runs there.
 */
export class Pacer {
  /** @throws TypeError when `webrtcbin` is not a webrtcbin element. */
  constructor(
    private readonly webrtcbin: NativeObject,
    targetBitrate: number,
  ) {
    native.pace(webrtcbin);
    this.update(targetBitrate, null);
  }

  /** Sets the pace and the retransmission budget for a target (bit/s) and the last round-trip time (ms, null: unknown). */
  update(targetBitrate: number, roundTripMs: number | null): void {
    const settings = {
      rate: PACING_FACTOR * targetBitrate,
      maxQueueMs: MAX_PACING_QUEUE_MS,
      retransmitRate: RETRANSMIT_SHARE * targetBitrate,
      retransmitIntervalMs: Math.max(MIN_RETRANSMIT_INTERVAL_MS, roundTripMs ?? 0),
      keyframeIntervalMs: KEYFRAME_FOR_REFUSED_MS,
    };
    try {
      native.setPacing(this.webrtcbin, settings);
    } catch {
      // the element was freed with its pipeline: nothing left to pace
    }
  }

  /**
   * Drops the packets it holds and asks the encoder for a keyframe. Call once
   * the transport has connected: until then webrtcbin holds its RTP path, and
   * what a live encoder made meanwhile (a second of video for a connection
   * that takes a second) would otherwise leave at 2.5 × the target at once.
   */
  skipBacklog(): void {
    try {
      native.skipPacerBacklog(this.webrtcbin);
    } catch {
      // the element was freed with its pipeline
    }
  }

  /**
   * The per-packet TWCC feedback rtpsession reported since the last call (see
   * PacketFeedbackReader), or null once the webrtcbin is gone.
   */
  takeFeedback(): Float64Array | null {
    try {
      return native.takeTransportFeedback(this.webrtcbin);
    } catch {
      return null; // the element was freed with its pipeline
    }
  }

  /** What it did so far (null once the webrtcbin is gone). */
  counts(): PacerCounts | null {
    try {
      return native.pacingCounts(this.webrtcbin);
    } catch {
      return null; // the element was freed with its pipeline
    }
  }
}
