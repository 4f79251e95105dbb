import { branchesOf, ignoreOutcome } from './branch.js';
import { Element } from './element.js';
import { InvalidStateError } from './errors.js';
import { checkMaxLatency, DEFAULT_MAX_LATENCY_MS, DEFAULT_RECEIVE_LATENCY_MS, growLatencyOnLatePackets, nackOnGapsOnly } from './jitterbuffer.js';
import { checkKeyframeRequestInterval, DEFAULT_KEYFRAME_REQUEST_INTERVAL, keyframeRequestCounts, type KeyframeRequestCounts, requestKeyframesOnLoss } from './keyframe-requests.js';
import { checkBranchDescription } from './launch-guard.js';
import { withInstallHint } from './missing-dependency.js';
import type { NativeObject } from './native.js';
import type { Pipeline } from './pipeline.js';
import type { MediaKind } from './types.js';

/** Reads one field of caps text such as `application/x-rtp, media=(string)video, payload=(int)96`. */
function capsField(caps: string, field: string): string | undefined {
  return new RegExp(`[,\\s]${field}=(?:\\([a-z]+\\))?"?([^",;]+)"?`).exec(caps)?.[1]?.trim();
}

/**
 * Incoming media: one RTP stream webrtcbin received (its `pad-added`). Media is
 * held back until you call link(); a track nobody links is discarded, never
 * left unlinked.
 */
export class Track {
  /** 'audio' or 'video'. */
  readonly kind: MediaKind;
  /** RTP encoding name, e.g. `VP8`, `H264`, `OPUS`. */
  readonly encodingName: string;
  /** RTP payload type. */
  readonly payloadType: number;
  /** RTP clock rate. */
  readonly clockRate: number;
  /** The full RTP caps, as text. */
  readonly caps: string;
  private linkedBin: Element | null = null;

  /** @internal */
  constructor(
    private readonly pipeline: Pipeline,
    private readonly pad: NativeObject,
    caps: string,
    private readonly initialLatency: number = DEFAULT_RECEIVE_LATENCY_MS,
  ) {
    this.caps = caps;
    this.kind = capsField(caps, 'media') === 'audio' ? 'audio' : 'video';
    this.encodingName = (capsField(caps, 'encoding-name') ?? '').toUpperCase();
    this.payloadType = Number(capsField(caps, 'payload') ?? NaN);
    this.clockRate = Number(capsField(caps, 'clock-rate') ?? NaN);
  }

  /** The pad's name on the webrtcbin (e.g. `src_0`). */
  get padName(): string {
    return this.pad.name ?? '';
  }

  /** Whether link() or discard() has run. */
  get linked(): boolean {
    return this.linkedBin !== null;
  }

  /**
   * Links the track to a branch made from a description that starts with a
   * depayloader, e.g. `'rtpvp8depay ! vp8dec ! videoconvert ! autovideosink'`,
   * starts it and lets the media flow. Returns the branch.
   * @param options.downstream where the branch's output goes, linked before any
   *   media flows: an element or a pad, e.g. a muxer's request pad.
   * @param options.isolate default true: whatever the branch returns (an error,
   *   EOS once it was ended), webrtcbin sees OK, so a failing branch cannot stop
   *   the peer's other media (webrtcbin would otherwise stop the whole
   *   connection). Its errors still reach the pipeline's `error` event.
   * @param options.keyframeRequestInterval video: the shortest time between two
   *   keyframe requests (PLI/FIR) the branch sends when it loses sync, in
   *   milliseconds; default 500; null sends none (docs/receiving.md).
   * @param options.waitForKeyframe video, with a decoder: after a loss, show
   *   nothing until the requested keyframe (the picture freezes, as in browsers)
   *   rather than go on decoding a damaged picture meanwhile (the default: on a
   *   link where the keyframe is lost again, waiting froze the picture for good).
   * @param options.maxLatency video: how long the WebRtcBin's jitterbuffers may
   *   come to wait for a missing packet, in milliseconds. They start at the
   *   WebRtcBin's `latency` (200 by default); each time a packet they had
   *   given up as lost arrives after all (a retransmission that came too
   *   late), they wait 200 ms longer, up to this (default 1000), and after 10 s
   *   without one 100 ms less again, as a browser's playout delay grows after
   *   late packets. A playing sink (`sync=true`) shows everything that much
   *   later; a recording or `sync=false` sink only waits longer after a gap.
   *   null keeps the latency fixed. The first video track linked sets it for
   *   the WebRtcBin (docs/receiving.md).
   * @throws GstError when the description does not parse or does not fit the track's caps.
   *
   * Linking is checked now; the branch then starts, and the media flows, on the
   * pipeline's native thread. A branch that cannot start is removed and
   * reported as the pipeline's `error` event.
   */
  link(
    description: string,
    options: { downstream?: Element; isolate?: boolean; keyframeRequestInterval?: number | null; waitForKeyframe?: boolean; maxLatency?: number | null } = {},
  ): Element {
    if (typeof description !== 'string') throw new TypeError('description must be a string');
    const { downstream, isolate = true, keyframeRequestInterval = DEFAULT_KEYFRAME_REQUEST_INTERVAL, waitForKeyframe = false, maxLatency = DEFAULT_MAX_LATENCY_MS } = options;
    checkKeyframeRequestInterval(keyframeRequestInterval);
    checkMaxLatency(maxLatency);
    if (downstream !== undefined && !(downstream instanceof Element)) throw new TypeError('downstream must be an Element');
    this.pipeline.assertOpen();
    if (this.linkedBin !== null) throw new InvalidStateError('the track is already linked');
    const branches = branchesOf(this.pipeline);
    checkBranchDescription(description); // GStreamer 1.22's parser can print a CRITICAL (launch-guard.ts)
    let bin: NativeObject;
    try {
      bin = branches.addBin(description);
    } catch (error) {
      throw withInstallHint(error);
    }
    try {
      branches.linkWithCaps(this.pad, bin);
      if (downstream !== undefined) branches.link(bin, downstream.native);
      // The pipeline's own error event reports the branch's errors; its flow return is contained.
      if (isolate) branches.isolateFlow(branches.pad(bin, 'sink')!, () => undefined);
      if (this.kind === 'video' && keyframeRequestInterval !== null) requestKeyframesOnLoss(branches, this.pad, bin, keyframeRequestInterval, waitForKeyframe);
      // The jitterbuffers' waiting for missing packets (jitterbuffer.ts).
      const webrtcbin = this.kind === 'video' ? (this.pad.get('parent') as NativeObject | null) : null;
      if (webrtcbin !== null) {
        nackOnGapsOnly(this.pipeline, webrtcbin);
        if (maxLatency !== null) growLatencyOnLatePackets(this.pipeline, webrtcbin, this.initialLatency, maxLatency);
      }
    } catch (error) {
      ignoreOutcome(branches.remove(bin));
      throw error;
    }
    branches.startInBackground(bin, () => ignoreOutcome(branches.remove(bin)));
    // Queued behind the start: the first buffer (a keyframe) reaches a playing branch.
    ignoreOutcome(branches.unblock(this.pad));
    this.linkedBin = new Element(bin, this.pipeline);
    return this.linkedBin;
  }

  /** Keyframe requests the linked branch sent and suppressed (link()'s `keyframeRequestInterval`); null without them. */
  get keyframeRequests(): KeyframeRequestCounts | null {
    return this.linkedBin === null || this.pipeline.closed ? null : keyframeRequestCounts(branchesOf(this.pipeline), this.pad);
  }

  /** Consumes the track's media without using it. */
  discard(): void {
    if (this.linkedBin === null && !this.pipeline.closed) this.link('fakesink sync=false async=false');
  }
}
