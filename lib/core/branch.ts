// Internal: the element and pad operations that the media building blocks
// (fan-out, recorder) and Track compose into branches added and removed while a
// pipeline plays. The one way for them to reach a pipeline's native handle,
// which Pipeline does not expose.
//
// What can wait on GStreamer (starting, stopping, removing an element, letting
// a held-back pad flow) runs on the pipeline's native control thread, in call
// order, and returns a Promise. What only creates, finds or links objects
// returns at once. Watches on pads end themselves: each returns a Disposable.
import { ERROR_DOMAIN, ErrorCode } from './error-codes.js';
import { GstError } from './errors.js';
import type { NativeObject, NativePipeline } from './native.js';
import { pipelineHandle, type Disposable, type PipelineHandle } from './pipeline-handle.js';

/** @internal The branch operations of one pipeline. */
export class Branches {
  private readonly handle: PipelineHandle;
  private readonly native: NativePipeline;

  constructor(pipeline: object) {
    this.handle = pipelineHandle(pipeline);
    this.native = this.handle.native;
  }

  /** Parses a bin (its unlinked pads become ghost pads) and adds it, stopped. */
  addBin(description: string): NativeObject {
    return this.native.addBin(description);
  }

  /** One element, added stopped. */
  addElement(factory: string, name?: string): NativeObject {
    return this.native.addElement(factory, name);
  }

  /**
   * addBin() without waiting: the bin is parsed and added on the pipeline's
   * native thread. Queued operations (start, remove) can use the handle at
   * once; `created` settles when it exists (GstError if it does not parse).
   * A synchronous use of the handle before then waits for it.
   */
  addBinLater(description: string): { element: NativeObject; created: Promise<void> } {
    const { element, id } = this.native.addBinLater(description);
    return { element, created: this.queue(() => id) };
  }

  /** addElement() without waiting, as addBinLater(); `settings` as NativePipeline.addElementLater. */
  addElementLater(factory: string, name: string | null, settings?: [string, string][]): { element: NativeObject; created: Promise<void> } {
    const { element, id } = this.native.addElementLater(factory, name, settings);
    return { element, created: this.queue(() => id) };
  }

  /** An element by name, at any depth, or null. */
  element(name: string): NativeObject | null {
    return this.native.getElement(name);
  }

  /** Every element made by that factory, at any depth. */
  elementsByFactory(factory: string): NativeObject[] {
    return this.native.elementsByFactory(factory);
  }

  /** Elements at any depth (for leak checks). */
  countElements(): number {
    return this.native.countElements();
  }

  /** An element's always pad (a bin's ghost `src`/`sink`), or null. */
  pad(element: NativeObject, name: string): NativeObject | null {
    return this.native.getPad(element, name);
  }

  /** A new request pad, e.g. a tee's `src_%u`. */
  requestPad(element: NativeObject, template: string): NativeObject {
    return this.native.requestPad(element, template);
  }

  /**
   * requestPad() without waiting: the pad is requested on the pipeline's native
   * thread (a webrtcbin makes a transceiver for it under its lock, a tee takes
   * its lock). The handle is usable at once by queued operations (linkLater(),
   * forceKeyUnit()); `created` settles when the pad exists (GstError if the
   * element gives none). A synchronous use of the handle before then waits for it.
   */
  requestPadLater(element: NativeObject, template: string): { pad: NativeObject; created: Promise<void> } {
    const { pad, id } = this.native.requestPadLater(element, template);
    return { pad, created: this.queue(() => id) };
  }

  /** Gives a request pad back to its element once it is unlinked. Idempotent. */
  releasePad(pad: NativeObject): void {
    this.native.releasePad(pad);
  }

  /** Links elements or pads, in any combination. @throws GstError when they cannot be linked. */
  link(src: NativeObject, sink: NativeObject): void {
    this.native.link(src, sink);
  }

  /**
   * link() on the pipeline's native thread, after what is queued before it (so
   * also for handles addBinLater() and requestPadLater() are still making):
   * linking takes pad and element locks that streaming threads hold. Rejects
   * with a GstError if it cannot link (also when a handle's creation has
   * failed already).
   */
  linkLater(src: NativeObject, sink: NativeObject): Promise<void> {
    return this.queue(() => this.native.linkLater(src, sink));
  }

  /**
   * Links a source pad that already carries caps (an incoming track) to an
   * element's sink pad, and checks that the element accepts those caps:
   * linking alone only intersects what the pads' caps queries return, which a
   * bin's ghost pad can answer loosely, and the mismatch would show up later as
   * not-negotiated. @throws GstError (LinkFailed) when the caps are refused.
   */
  linkWithCaps(srcPad: NativeObject, sink: NativeObject, sinkPadName = 'sink'): void {
    this.native.link(srcPad, sink);
    const sinkPad = this.native.getPad(sink, sinkPadName);
    if (sinkPad === null || this.native.acceptsCurrentCaps(srcPad, sinkPad)) return;
    this.native.unlink(srcPad, sinkPad);
    throw new GstError(`cannot link ${srcPad.name ?? 'the track'} to ${sink.name ?? 'the branch'}: its caps are refused`, {
      domain: ERROR_DOMAIN,
      code: ErrorCode.LinkFailed,
    });
  }

  /** Removes a bin's ghost pad (a source bin whose first link is dynamic). */
  removeGhostPad(pad: NativeObject): void {
    this.native.removeGhostPad(pad);
  }

  /** Starts an element at its parent's state; rejects with GstError if it cannot start. */
  start(element: NativeObject): Promise<void> {
    return this.queue(() => this.native.syncState(element));
  }

  /** start() for a caller that does not wait: a failure runs `onFailure`, then becomes the pipeline's `error` event. */
  startInBackground(element: NativeObject, onFailure?: () => void): void {
    this.start(element).catch((error: unknown) => {
      if (this.handle.closed) return; // closing stopped everything anyway
      onFailure?.();
      this.handle.reportError(error);
    });
  }

  /** Takes an element out of the pipeline at once; resolves once it has stopped (joining its streaming threads). */
  remove(element: NativeObject): Promise<void> {
    return this.queue(() => this.native.removeElement(element));
  }

  /** Lets an incoming track's held-back media flow, after what was queued before (its branch's start). */
  unblock(pad: NativeObject): Promise<void> {
    return this.queue(() => this.native.unblockPad(pad));
  }

  /** Queues an operation; a pipeline closed already (or meanwhile) rejects the Promise, never throws. */
  private async queue(operation: () => number): Promise<void> {
    await this.handle.operation(operation());
  }

  /**
   * Sets a property on the pipeline's native thread: setting one takes the
   * object's lock, which its streaming thread may hold (e.g. a clocksync's
   * `sync` while it waits). The value is checked at once (TypeError).
   */
  setLater(object: NativeObject, property: string, value: unknown): Promise<void> {
    const id = this.native.setProperty(object, property, value);
    return this.queue(() => id);
  }

  /** Sends end-of-stream into one sink pad, from a GStreamer thread. */
  sendEos(sinkPad: NativeObject): boolean {
    return this.native.sendPadEos(sinkPad);
  }

  /** Asks the encoder upstream of the pad for a keyframe with headers, from a GStreamer thread; false if the pad has no parent. */
  forceKeyUnit(pad: NativeObject): boolean {
    try {
      return this.native.forceKeyUnit(pad);
    } catch (error) {
      if (error instanceof GstError) return false; // a pad whose request failed, or a closed pipeline: nothing to ask
      throw error;
    }
  }

  /**
   * Lets keyframe requests travelling upstream through the pad (a receiver's
   * PLI/FIR, a joining viewer's, a decoder's after a loss) pass at most once per
   * `intervalMs`; the others are dropped. `onRequest` hears of each, passed or
   * not. A pad keeps its first limit: null if it had one already.
   */
  limitKeyframeRequests(pad: NativeObject, intervalMs: number, onRequest?: (passed: boolean) => void): Disposable | null {
    const target = this.native.limitKeyframeRequests(pad, intervalMs, onRequest !== undefined);
    if (target === null) return null;
    if (onRequest === undefined) return { dispose: () => {} };
    return this.handle.subscribe(target, 'branch', (event) => event.type === 'keyframe-request' && onRequest(event.data.passed));
  }

  /** What the limit on the pad let through and dropped; null without one. */
  keyframeRequestCounts(pad: NativeObject): { forwarded: number; dropped: number } | null {
    return this.native.keyframeRequestCounts(pad);
  }

  /** Drops what flows through this src pad until the first keyframe; from it on everything passes. */
  dropUntilKeyframe(pad: NativeObject): void {
    this.native.dropUntilKeyframe(pad);
  }

  /** Whatever the branch behind this ghost sink pad returns, its feeder sees OK; the first failure is reported, once. */
  isolateFlow(ghostSinkPad: NativeObject, onFailure: (flow: string) => void): Disposable {
    const target = this.native.isolateFlow(ghostSinkPad);
    return this.handle.subscribe(target, 'branch', (event) => event.type === 'flow-error' && onFailure(event.data.flow));
  }

  /** Calls `onEos` whenever end-of-stream passes the pad; `drop` stops it there. */
  watchEos(pad: NativeObject, drop: boolean, onEos: () => void): Disposable {
    const target = this.native.watchEos(pad, drop);
    return this.handle.subscribe(target, 'branch', (event) => event.type === 'eos' && onEos());
  }

  /** Unlinks the pad from its peer once no data flows through it, then calls `onUnlinked`. */
  unlinkWhenIdle(pad: NativeObject, onUnlinked: () => void): Disposable {
    const target = this.native.unlinkWhenIdle(pad);
    return this.handle.subscribe(target, 'branch', (event) => event.type === 'unlinked' && onUnlinked());
  }
}

/** @internal The branch operations of a Pipeline. */
export function branchesOf(pipeline: object): Branches {
  return new Branches(pipeline);
}

/** For a queued operation nobody needs to wait for (its pipeline may close first). */
export function ignoreOutcome(operation: Promise<unknown>): void {
  operation.catch(() => undefined);
}
