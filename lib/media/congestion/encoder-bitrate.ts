// Sets an encoder's target bitrate while it plays. Each encoder names the
// property and its unit differently; this table is the one place that knows.
import { branchesOf, ignoreOutcome } from '../../core/branch.js';
import type { Element } from '../../core/element.js';
import type { Pipeline } from '../../core/pipeline.js';

/** How one encoder factory takes a bitrate: the property, and bit/s per unit. */
interface BitrateProperty {
  property: string;
  bitsPerUnit: number;
}

/** Encoders whose bitrate can change at run time, by factory name. */
const ENCODER_BITRATES: Record<string, BitrateProperty> = {
  vp8enc: { property: 'target-bitrate', bitsPerUnit: 1 },
  vp9enc: { property: 'target-bitrate', bitsPerUnit: 1 },
  x264enc: { property: 'bitrate', bitsPerUnit: 1000 },
  x265enc: { property: 'bitrate', bitsPerUnit: 1000 },
  openh264enc: { property: 'bitrate', bitsPerUnit: 1 },
  nvh264enc: { property: 'bitrate', bitsPerUnit: 1000 },
  vaapih264enc: { property: 'bitrate', bitsPerUnit: 1000 },
  vah264enc: { property: 'bitrate', bitsPerUnit: 1000 },
  svtav1enc: { property: 'target-bitrate', bitsPerUnit: 1000 },
  opusenc: { property: 'bitrate', bitsPerUnit: 1 },
};

/**
 * vp8enc settings for a bitrate that follows the link (libwebrtc's for VP8):
 * - the rate control's buffer is 1 s, not vp8enc's 6 s, and frames may exceed
 *   the mean by 15%: with 6 s it sent 1.2 Mbit/s for many seconds at a
 *   0.8 Mbit/s target;
 * - a keyframe is at most 9 times the mean frame (900%);
 * - the encoder drops a frame rather than overshoot when its buffer runs low
 *   (30%): at its coarsest quantizer a detailed picture still needs more than a
 *   low target (a scrolling 640x480 test pattern: 640 kbit/s at a 400 kbit/s
 *   target without dropping; 413 kbit/s at 19 fps with it), and a link that
 *   gets more than it carries freezes the picture.
 */
export const VP8_ADAPTIVE_SETTINGS = 'buffer-initial-size=500 buffer-optimal-size=600 buffer-size=1000 overshoot=15 max-intra-bitrate=900 dropframe-threshold=30';

/** The encoder factories whose bitrate congestion control can set. */
export const RATE_CONTROLLED_ENCODERS: readonly string[] = Object.keys(ENCODER_BITRATES);

/**
 * One encoder's target bitrate. The property is set on the pipeline's native
 * thread: setting it takes the encoder's lock, which its streaming thread
 * holds while it encodes a frame, and the JS thread must not wait for that.
 */
export class EncoderBitrate {
  private readonly setting: BitrateProperty;

  /** @throws TypeError for an element whose factory is not in RATE_CONTROLLED_ENCODERS. */
  constructor(
    private readonly pipeline: Pipeline,
    private readonly encoder: Element,
  ) {
    const factory = encoder.factoryName ?? '';
    const setting = ENCODER_BITRATES[factory];
    if (setting === undefined) throw new TypeError(`cannot set the bitrate of ${factory || 'that element'}; congestion control knows ${RATE_CONTROLLED_ENCODERS.join(', ')}`);
    this.setting = setting;
  }

  /** Sets the target (bit/s), rounded to the encoder's unit. Does nothing once the pipeline is closed. */
  set(bitrate: number): void {
    if (this.pipeline.closed) return;
    const value = Math.max(1, Math.round(bitrate / this.setting.bitsPerUnit));
    ignoreOutcome(branchesOf(this.pipeline).setLater(this.encoder.native, this.setting.property, value));
  }
}
