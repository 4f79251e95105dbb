// The per-viewer congestion controller: reads one WebRtcBin's feedback
// statistics, estimates what its link carries, and sets its encoder's bitrate.
import type { Element } from '../../core/element.js';
import type { NativeObject } from '../../core/native.js';
import { InvalidStateError } from '../../core/errors.js';
import { SafeEmitter, type ListenerErrorEvent } from '../../core/safe-emitter.js';
import type { WebRtcBin } from '../../core/webrtcbin.js';
import { BandwidthEstimator, type BitrateChange } from './bandwidth-estimator.js';
import { EncoderBitrate } from './encoder-bitrate.js';
import { congestionLimits, type CongestionControlOptions, type CongestionLimits } from './options.js';
import { PacketFeedbackReader } from './packet-feedback.js';
import { Pacer, type PacerCounts } from './pacer.js';
import { ResolutionScaler, type ResolutionScaling } from './resolution-scaler.js';
import { TransportFeedbackReader, type FeedbackSample } from './transport-feedback.js';

/**
 * How often a paced controller takes the per-packet feedback its pacer
 * collected (ms): TWCC feedback comes every 50 to 100 ms.
 */
const PACKET_FEEDBACK_MS = 50;

/** Options of a CongestionController. */
export interface CongestionControllerOptions extends CongestionControlOptions {
  /**
   * The encoder whose bitrate follows the estimate (one of
   * RATE_CONTROLLED_ENCODERS, e.g. `pipeline.getElement('enc')` for a
   * `vp8enc name=enc` in your addTrack() branch). Without one, the controller
   * only estimates (events and getStats).
   */
  encoder?: Element;
  /**
   * Whether to pace the WebRtcBin's RTP at 2.5 × the target and limit its
   * retransmissions (see Pacer; default true). Pacing starts with the RTP
   * session, so make the controller before the first negotiation.
   */
  pacing?: boolean;
  /**
   * Where the picture size follows the target: a capsfilter after a
   * videoscale, before the encoder, and the full size. Under a target too low
   * for the full size (see ResolutionScaling.minBitsPerPixel) the picture is
   * halved in both dimensions, at most twice; it grows back once the target
   * has allowed it for 2 s. Default: the size never changes.
   */
  resolution?: ResolutionScaling;
}

/** Events of a CongestionController. */
export interface CongestionControllerEvents extends ListenerErrorEvent {
  /** A new target bitrate (bit/s) and why; the encoder has been told. */
  bitratechange: [change: BitrateChange];
  /** @internal Every feedback sample read (for the fan-out and for tests). */
  sample: [sample: FeedbackSample, estimate: number];
  /** close() ran. */
  close: [];
}

/**
 * Bitrate that follows the link, for one sender: Google Congestion Control's
 * delay-gradient over-use detector and AIMD rate control, and its loss-based
 * controller (draft-ietf-rmcat-gcc-02), over the transport-wide congestion
 * control feedback (TWCC): per packet when paced (the pacer collects what
 * rtpsession reports of each packet), else the statistics and receiver reports
 * of webrtcbin's get-stats. The estimate sets the encoder's target bitrate within
 * `minBitrate`..`maxBitrate`, is told to `bitratechange` listeners (of the
 * controller and of the WebRtcBin) and appears in `webrtcbin.getStats()` as
 * the candidate pair's `availableOutgoingBitrate`.
 *
 * Delay-based control needs TWCC: the receiver must negotiate transport-cc and
 * the sender's RTP must carry its header extension (put `transportCcCaps()`
 * after your payloader). Without it only receiver reports drive the rate
 * (loss over 10% lowers it).
 *
 * ```ts
 * const sender = new WebRtcBin();
 * sender.addTrack(`videotestsrc is-live=true ! vp8enc name=enc deadline=1 ! rtpvp8pay${transportCcCaps()}`);
 * const control = new CongestionController(sender, { encoder: sender.pipeline.getElement('enc')!, maxBitrate: 2_500_000 });
 * sender.on('bitratechange', ({ bitrate, reason }) => console.log(bitrate, reason));
 * ```
 */
export class CongestionController extends SafeEmitter<CongestionControllerEvents> {
  /** The limits in use, defaults applied. */
  readonly limits: Readonly<CongestionLimits>;
  private readonly estimator: BandwidthEstimator;
  private readonly reader = new TransportFeedbackReader();
  private readonly packetReader = new PacketFeedbackReader();
  /** Whether per-packet feedback ever came: then it alone gives the delay, rate and loss signals. */
  private perPacket = false;
  private readonly encoderBitrate: EncoderBitrate | null;
  private readonly scaler: ResolutionScaler | null;
  private pacer: Pacer | null = null;
  private pacedAtLeast = 0;
  private roundTripMs: number | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly packetTimer: NodeJS.Timeout;
  private polling = false;
  private isClosed = false;
  private target: number;

  /**
   * Starts reading the WebRtcBin's statistics every `pollInterval` ms (they are
   * read on the webrtcbin's own thread; the JS thread never waits for its
   * lock), and its pacer's per-packet feedback every 50 ms. Sets the encoder
   * to `startBitrate` now. Closes with the WebRtcBin.
   * @throws TypeError for bad options or an encoder whose bitrate it cannot set; InvalidStateError for a closed WebRtcBin.
   */
  constructor(
    readonly webrtcbin: WebRtcBin,
    options: CongestionControllerOptions = {},
    /** @internal false: the estimate may run ahead of the receive rate (a layer ladder probes by switching up). */
    boundByReceiveRate = true,
  ) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('CongestionController options must be an object');
    if (webrtcbin.closed) throw new InvalidStateError('the WebRtcBin is closed');
    this.limits = congestionLimits(options);
    this.encoderBitrate = options.encoder === undefined ? null : new EncoderBitrate(webrtcbin.pipeline, options.encoder);
    this.estimator = new BandwidthEstimator(this.limits, boundByReceiveRate && this.encoderBitrate !== null);
    this.scaler = options.resolution === undefined ? null : new ResolutionScaler(webrtcbin.pipeline, options.resolution);
    this.target = this.limits.startBitrate;
    this.encoderBitrate?.set(this.target);
    this.scaler?.update(this.target, performance.now());
    if (options.pacing !== false) this.attachPacer(webrtcbin.element.native);
    webrtcbin.reportOutgoingBitrate({ bitrate: this.target, reason: 'increase' });
    this.timer = setInterval(() => this.poll(), this.limits.pollInterval);
    this.timer.unref(); // a controller alone does not keep the process running
    this.packetTimer = setInterval(() => this.readPacketFeedback(), PACKET_FEEDBACK_MS);
    this.packetTimer.unref();
    webrtcbin.once('close', () => this.close());
    webrtcbin.on('connectionstatechange', this.onConnectionState);
  }

  /** At the first `connected`: what the encoder made while the transport was connecting is stale, a keyframe replaces it. */
  private readonly onConnectionState = (state: string): void => {
    if (state !== 'connected') return;
    this.webrtcbin.off('connectionstatechange', this.onConnectionState);
    this.pacer?.skipBacklog();
  };

  /** The current target bitrate, bit/s. */
  get bitrate(): number {
    return this.target;
  }

  /** The picture size now, with the `resolution` option; else null. */
  get resolution(): { width: number; height: number } | null {
    return this.scaler?.resolution ?? null;
  }

  /** What the pacer did so far; null without pacing. */
  get pacing(): PacerCounts | null {
    return this.pacer?.counts() ?? null;
  }

  /**
   * @internal Paces this webrtcbin element (a fan-out does it once the viewer's
   * element exists, before it negotiates). Once.
   */
  attachPacer(element: NativeObject): void {
    if (this.pacer !== null || this.isClosed) return;
    this.pacer = new Pacer(element, Math.max(this.target, this.pacedAtLeast));
  }

  /**
   * @internal The pacer goes by at least this bitrate (bit/s), whatever the
   * estimate: a fan-out viewer's layer is encoded at its own rate, and pacing
   * it slower would queue it until the estimate fell further.
   */
  set pacingFloor(bitrate: number) {
    this.pacedAtLeast = bitrate;
    this.updatePacer();
  }

  /** Whether close() has run. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Stops reading statistics; the encoder keeps its last bitrate. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.timer);
    clearInterval(this.packetTimer);
    this.webrtcbin.off('connectionstatechange', this.onConnectionState);
    if (!this.webrtcbin.closed) this.webrtcbin.reportOutgoingBitrate(null);
    this.dispatch('close');
  }

  private poll(): void {
    if (this.polling || this.isClosed) return;
    if (this.webrtcbin.closed) return this.close();
    this.polling = true;
    this.webrtcbin.getStats().then(
      (report) => {
        this.polling = false;
        if (this.isClosed) return;
        const sample = this.reader.read(report, performance.now());
        if (this.perPacket) {
          // The packets already told the delay and the loss, sooner.
          sample.transportFeedback = null;
          sample.receiverReport = null;
        }
        this.estimate(sample);
        if (sample.roundTripMs !== null && sample.roundTripMs !== this.roundTripMs) {
          this.roundTripMs = sample.roundTripMs;
          this.updatePacer();
        }
      },
      () => {
        this.polling = false; // closed meanwhile, or a get-stats that failed once: the next poll tries again
      },
    );
  }

  /** Takes what the pacer collected of the receiver's per-packet feedback. */
  private readPacketFeedback(): void {
    if (this.pacer === null || this.isClosed || this.webrtcbin.closed) return;
    const batch = this.pacer.takeFeedback();
    if (batch === null || batch.length === 0) return;
    this.perPacket = true;
    const transportFeedback = this.packetReader.read(batch);
    if (transportFeedback === null) return;
    this.estimate({ time: performance.now(), transportFeedback, receiverReport: null, roundTripMs: null, sendRate: null });
  }

  private estimate(sample: FeedbackSample): void {
    const change = this.estimator.update(sample);
    if (change !== null) this.apply(change);
    this.scaler?.update(this.target, sample.time);
    this.dispatch('sample', sample, this.estimator.bitrate);
  }

  private apply(change: BitrateChange): void {
    this.target = change.bitrate;
    this.encoderBitrate?.set(change.bitrate);
    this.updatePacer();
    this.webrtcbin.reportOutgoingBitrate(change);
    this.dispatch('bitratechange', change);
  }

  private updatePacer(): void {
    if (this.pacer === null || this.webrtcbin.closed) return;
    this.pacer.update(Math.max(this.target, this.pacedAtLeast), this.roundTripMs);
  }
}
