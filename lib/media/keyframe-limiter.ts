// Keyframes on demand, rate-limited: a receiver's PLI or FIR (rtpsession turns
// it into an upstream GstForceKeyUnit event) and a fan-out's "a viewer joined"
// reach the encoder at most once per interval.
import { branchesOf, type Branches } from '../core/branch.js';
import type { Element } from '../core/element.js';
import type { NativeObject } from '../core/native.js';
import type { Pipeline } from '../core/pipeline.js';
import type { Disposable } from '../core/pipeline-handle.js';
import { SafeEmitter, type ListenerErrorEvent } from '../core/safe-emitter.js';

/** Events of a KeyframeLimiter. */
export interface KeyframeLimiterEvents extends ListenerErrorEvent {
  /** A keyframe request reached the limiter: `passed` it went on to the encoder, or it was held back. */
  request: [passed: boolean];
}

/**
 * Lets keyframe requests reach an encoder at most once per `interval` ms.
 * A keyframe costs several times a delta frame: a few lossy receivers sending
 * PLIs, or viewers joining one after the other, would otherwise make a shared
 * encoder send keyframes back to back and congest every link. A request held
 * back is not lost: once the interval is over, one keyframe is asked for on
 * behalf of all the requests held back meanwhile.
 *
 * The limit sits on a pad the requests pass on their way upstream: the
 * encoder's output (`new KeyframeLimiter(pipeline, encoder)`), or any pad
 * between the encoder and its receivers.
 */
export class KeyframeLimiter extends SafeEmitter<KeyframeLimiterEvents> {
  private readonly branches: Branches;
  private readonly pad: NativeObject;
  private readonly watch: Disposable;
  private deferred: NodeJS.Timeout | null = null;
  private lastPassed = -Infinity;
  private passedCount = 0;
  private heldCount = 0;
  private isClosed = false;

  /**
   * @param at the encoder (its `src` pad is used) or a pad downstream of it.
   * @param interval milliseconds between two keyframe requests reaching the encoder. Default 1000.
   * @throws TypeError for an element without a `src` pad, a pad limited already, or an interval that is not a non-negative number.
   */
  constructor(
    private readonly pipeline: Pipeline,
    at: Element | NativeObject,
    readonly interval = 1000,
  ) {
    super();
    if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0) throw new TypeError('the keyframe request interval must be a non-negative number (ms)');
    this.branches = branchesOf(pipeline);
    const native = 'native' in at ? at.native : at;
    const pad = native.is('GstPad') ? native : this.branches.pad(native, 'src');
    if (pad === null) throw new TypeError(`${native.name ?? 'that element'} has no src pad to limit keyframe requests on`);
    this.pad = pad;
    const watch = this.branches.limitKeyframeRequests(pad, interval, (passed) => this.onRequest(passed));
    if (watch === null) throw new TypeError(`${native.name ?? 'that pad'} already has a keyframe request limit`);
    this.watch = watch;
  }

  /** Requests that went on to the encoder (including the ones asked for after an interval on behalf of held ones). */
  get passed(): number {
    return this.passedCount;
  }

  /** Requests held back because one had passed less than `interval` ago. */
  get held(): number {
    return this.heldCount;
  }

  /** Stops asking on behalf of held requests; the limit itself stays on the pad while the pipeline lives. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.deferred !== null) clearTimeout(this.deferred);
    this.deferred = null;
    this.watch.dispose();
  }

  private onRequest(passed: boolean): void {
    if (this.isClosed) return;
    if (passed) {
      this.passedCount++;
      this.lastPassed = performance.now();
    } else {
      this.heldCount++;
      // One keyframe, once the interval is over, for everything held meanwhile.
      this.deferred ??= setTimeout(
        () => {
          this.deferred = null;
          // Sent into the limited pad itself, so it passes the limit like any other request.
          if (!this.isClosed && !this.pipeline.closed) this.branches.forceKeyUnit(this.pad);
        },
        Math.max(0, this.lastPassed + this.interval - performance.now()) + 1,
      );
    }
    this.dispatch('request', passed);
  }
}
