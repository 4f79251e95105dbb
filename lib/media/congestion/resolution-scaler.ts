// The picture size follows the bitrate: under a low target an encoder at full
// size has too few bits per pixel, and vp8enc then drops frames (a scrolling
// 640x480 test pattern needs about 640 kbit/s at its coarsest quantizer) and
// sends keyframes too large for the link. libwebrtc scales the picture down
// then (its quality scaler, driven by the encoder's quantizer, which GStreamer
// 1.22's encoders do not report); here the rule goes by bits per pixel.
import { branchesOf, ignoreOutcome } from '../../core/branch.js';
import { Element } from '../../core/element.js';
import type { Pipeline } from '../../core/pipeline.js';
import { positiveOption } from './options.js';

/** Where a CongestionController sets the picture size: a capsfilter after a videoscale, before the encoder. */
export interface ResolutionScaling {
  /** The capsfilter (e.g. `videoscale ! capsfilter name=size ! vp8enc ...`, then `pipeline.getElement('size')`). */
  capsfilter: Element;
  /** The full picture size, which the capsfilter gets while the bitrate allows it. */
  width: number;
  height: number;
  /** Frames per second of the source. Default 30. */
  framerate?: number;
  /**
   * The fewest bits per pixel of a frame before the picture is halved (in both
   * dimensions). Default 0.06: 640x480 at 30 fps halves under 553 kbit/s.
   */
  minBitsPerPixel?: number;
}

/** Each step halves both dimensions; at most two steps (a quarter of each dimension). */
const MAX_STEPS = 2;
/** Back up one step only once the target gives this much more than the minimum there... */
const UP_MARGIN = 1.3;
/** ...for this long (ms): a size change costs a keyframe. */
const UP_HOLD_MS = 2000;

/** The number of halvings (0 = full size) that a target allows, with hysteresis around the current one. */
export function resolutionStep(
  target: number,
  current: number,
  size: { width: number; height: number; framerate: number; minBitsPerPixel: number },
): number {
  const needed = (step: number) => ((size.width * size.height) / 4 ** step) * size.framerate * size.minBitsPerPixel;
  let step = current;
  while (step < MAX_STEPS && target < needed(step)) step++;
  if (step === current) while (step > 0 && target >= UP_MARGIN * needed(step - 1)) step--;
  return step;
}

/** Sets a capsfilter's size from the target bitrate; the property is set on the pipeline's native thread. */
export class ResolutionScaler {
  private readonly size: { width: number; height: number; framerate: number; minBitsPerPixel: number };
  private step = -1;
  /** The step the target has allowed since when, before a step up is taken. */
  private pendingUp: { step: number; since: number } | null = null;

  /** @throws TypeError for a capsfilter that is not an Element, or sizes or rates that are not positive numbers. */
  constructor(
    private readonly pipeline: Pipeline,
    private readonly options: ResolutionScaling,
  ) {
    if (typeof options !== 'object' || options === null || !(options.capsfilter instanceof Element)) throw new TypeError('resolution.capsfilter must be an Element');
    const positive = (name: keyof ResolutionScaling, fallback?: number): number => positiveOption(options[name], fallback, `resolution.${name}`);
    this.size = {
      width: positive('width'),
      height: positive('height'),
      framerate: positive('framerate', 30),
      minBitsPerPixel: positive('minBitsPerPixel', 0.06),
    };
  }

  /** The current picture size. */
  get resolution(): { width: number; height: number } {
    const divisor = 2 ** Math.max(0, this.step);
    return { width: even(this.size.width / divisor), height: even(this.size.height / divisor) };
  }

  /** Takes a new target (bit/s) at `now` (ms): down at once, up once the target has held for UP_HOLD_MS. */
  update(target: number, now: number): void {
    const step = resolutionStep(target, Math.max(0, this.step), this.size);
    if (this.step >= 0 && step < this.step) {
      if (this.pendingUp === null || this.pendingUp.step !== step) this.pendingUp = { step, since: now };
      if (now - this.pendingUp.since < UP_HOLD_MS) return;
    }
    this.pendingUp = null;
    if (step === this.step || this.pipeline.closed) return;
    this.step = step;
    const { width, height } = this.resolution;
    ignoreOutcome(branchesOf(this.pipeline).setLater(this.options.capsfilter.native, 'caps', `video/x-raw,width=${width},height=${height}`));
  }
}

/** Encoders want even dimensions. */
function even(value: number): number {
  return Math.max(2, 2 * Math.round(value / 2));
}
