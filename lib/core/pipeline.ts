import { Element } from './element.js';
import { GstError, InvalidStateError } from './errors.js';
import { checkBranchDescription, checkLaunchDescription } from './launch-guard.js';
import { withInstallHint } from './missing-dependency.js';
import type { BusEvent, NativeObject, ProblemData, StateChangeResult, StateName } from './native.js';
import { PipelineHandle, registerPipelineHandle } from './pipeline-handle.js';
import { SafeEmitter, type ListenerErrorEvent } from './safe-emitter.js';
import type { WebRtcBin } from './webrtcbin.js';

/** GStreamer's element states, by their short names. */
export type PipelineState = StateName;

export interface PipelineEvents extends ListenerErrorEvent {
  /** An error on the bus. The pipeline usually stops streaming; `error.source` names the element. */
  error: [error: GstError];
  /** A warning on the bus. */
  warning: [warning: GstError];
  /** End of stream reached every sink. */
  eos: [];
  /** The pipeline itself reached a new state. */
  statechange: [state: PipelineState, previous: PipelineState];
  /** close() ran. */
  close: [];
}

/** How a webrtcbin element becomes a WebRtcBin (webrtcbin.ts registers it: pipeline.ts does not import webrtcbin.ts at runtime). */
type WebRtcBinAttacher = (pipeline: Pipeline, element: NativeObject) => WebRtcBin;
let attachWebRtcBin: WebRtcBinAttacher | undefined;

/** @internal Called once by webrtcbin.ts. Keeps the two modules free of an import cycle. */
export function registerWebRtcBinAttacher(attach: WebRtcBinAttacher): void {
  attachWebRtcBin = attach;
}

interface StateWaiter {
  target: PipelineState;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * A GStreamer pipeline, built from a gst-launch style description, running in
 * this process.
 *
 * A playing pipeline keeps Node.js running, like a listening server; once it is
 * stopped or closed it no longer does. Always close() a pipeline you are done
 * with: that frees its elements, threads and sockets.
 *
 * No method waits for GStreamer: state changes, starting linked elements,
 * removing elements and closing run on the pipeline's own native thread, in
 * call order, so the event loop keeps turning while GStreamer works.
 *
 * ```ts
 * const pipeline = new Pipeline('videotestsrc is-live=true ! vp8enc ! rtpvp8pay ! webrtcbin name=tx');
 * await pipeline.play();
 * ```
 */
export class Pipeline extends SafeEmitter<PipelineEvents> {
  private readonly handle: PipelineHandle;
  private readonly webrtcbins = new Map<string, WebRtcBin>();
  private readonly stateWaiters: StateWaiter[] = [];
  private lastError: GstError | undefined;
  private isClosed = false;

  /**
   * @param description gst-launch syntax, e.g. `'videotestsrc ! autovideosink'`. Omit it for an empty pipeline.
   * @throws GstError when the description does not parse; MissingDependencyError when it names an element that is not installed.
   */
  constructor(description?: string) {
    super();
    if (description !== undefined && typeof description !== 'string') throw new TypeError('Pipeline description must be a string');
    if (description?.trim() === '') throw new TypeError('the pipeline description is empty (omit it for an empty pipeline)');
    if (description !== undefined) checkLaunchDescription(description); // GStreamer 1.22's parser can crash (launch-guard.ts)
    try {
      this.handle = new PipelineHandle(
        description ?? null,
        (event) => this.onBusEvent(event),
        (error) => this.dispatchError('error', error),
      );
    } catch (error) {
      throw withInstallHint(error);
    }
    registerPipelineHandle(this, this.handle);
    // Attach to every webrtcbin now, so no signal is missed before getWebRtcBin() is called.
    for (const element of this.handle.native.elementsByFactory('webrtcbin')) this.attachWebRtcBin(element);
  }

  /** The pipeline's current state (a change in progress shows once it is done). */
  get state(): PipelineState {
    return this.handle.native.getState();
  }

  /** Whether close() has run. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Starts the pipeline; resolves once it is playing, rejects with the GstError that stopped it. */
  play(): Promise<void> {
    return this.changeState('playing');
  }

  /** Pauses the pipeline; resolves once it is paused (live sources pause without prerolling). */
  pause(): Promise<void> {
    return this.changeState('paused');
  }

  /** Stops the pipeline (state NULL), releasing devices and sockets; it can be played again. */
  stop(): Promise<void> {
    return this.changeState('null');
  }

  /** Sends end-of-stream into the pipeline, e.g. to finalize a file a muxer is writing; `eos` follows. */
  sendEos(): void {
    this.assertOpen();
    this.background(this.handle.native.sendEos());
  }

  /**
   * Stops the pipeline and frees everything it holds. Idempotent. Its WebRtcBins
   * are closed too, and pending operations reject with InvalidStateError.
   *
   * Returns at once: the pipeline stops (state NULL) and frees its elements,
   * threads and sockets on its own native thread, right after whatever was
   * queued before. A closed pipeline never keeps Node.js alive; at process exit
   * (or a worker's end) pipelines still stopping get up to 3 s.
   */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const webrtcbin of this.webrtcbins.values()) webrtcbin.close();
    this.handle.close();
    const closedError = new InvalidStateError('the pipeline was closed');
    for (const waiter of this.stateWaiters.splice(0)) waiter.reject(closedError);
    this.dispatch('close');
  }

  /** An element by name (searched recursively), or null. */
  getElement(name: string): Element | null {
    this.assertOpen();
    if (typeof name !== 'string') throw new TypeError('element name must be a string');
    const element = this.handle.native.getElement(name);
    return element === null ? null : new Element(element, this);
  }

  /**
   * The WebRtcBin wrapping the webrtcbin element of that name, or null when there
   * is no element of that name. Throws TypeError if the element is not a webrtcbin.
   */
  getWebRtcBin(name: string): WebRtcBin | null {
    this.assertOpen();
    if (typeof name !== 'string') throw new TypeError('element name must be a string');
    const known = this.webrtcbins.get(name);
    if (known !== undefined) return known;
    const element = this.handle.native.getElement(name);
    if (element === null) return null;
    if (element.factoryName !== 'webrtcbin') throw new TypeError(`element "${name}" is a ${element.factoryName}, not a webrtcbin`);
    return this.attachWebRtcBin(element);
  }

  /**
   * Adds a branch from a description; its unlinked pads become the branch's pads.
   * `link()` it to the rest of the pipeline, which also starts it.
   */
  add(description: string): Element {
    this.assertOpen();
    if (typeof description !== 'string') throw new TypeError('description must be a string');
    checkBranchDescription(description); // GStreamer 1.22's parser can print a CRITICAL (launch-guard.ts)
    let bin: NativeObject;
    try {
      bin = this.handle.native.addBin(description);
    } catch (error) {
      throw withInstallHint(error);
    }
    return new Element(bin, this);
  }

  /**
   * Links two elements (requesting pads as needed) and starts `sink` and `src`
   * if the pipeline runs.
   *
   * Linking happens now: a link that cannot be made throws GstError. Starting
   * the two elements happens right after, on the pipeline's native thread, in
   * order with the pipeline's other state changes; an element that cannot start
   * is reported as the pipeline's `error` event.
   */
  link(src: Element, sink: Element): void {
    this.assertOpen();
    if (!(src instanceof Element) || !(sink instanceof Element)) throw new TypeError('link() takes two Elements');
    this.handle.native.link(src.native, sink.native);
    this.background(this.handle.native.syncState(sink.native));
    this.background(this.handle.native.syncState(src.native));
  }

  /**
   * Removes an element from the pipeline and stops it. It leaves the pipeline at
   * once (unlinked; `getElement()` no longer finds it and its name is free); it
   * stops on the pipeline's native thread (stopping joins its streaming
   * threads), after what was queued before, and the returned Promise resolves
   * then. It never rejects: a failure is the pipeline's `error` event, and a
   * pipeline closed meanwhile stops everything anyway.
   */
  remove(element: Element): Promise<void> {
    this.assertOpen();
    if (!(element instanceof Element)) throw new TypeError('remove() takes an Element');
    return this.handle.operation(this.handle.native.removeElement(element.native)).then(
      () => undefined,
      (error: unknown) => this.handle.reportError(error),
    );
  }

  /** Running time of the pipeline clock in nanoseconds, or null when it has none. */
  get runningTime(): number | null {
    return this.isClosed ? null : this.handle.native.clockTime();
  }

  /**
   * @internal Keeps the process alive while an asynchronous operation (a webrtcbin
   * promise) is pending. Call the returned function once it settles.
   */
  holdOperation(): () => void {
    return this.handle.hold();
  }

  private background(id: number): void {
    this.handle.background(id);
  }

  /** @internal Throws InvalidStateError once closed. */
  assertOpen(): void {
    if (this.isClosed) throw new InvalidStateError('the pipeline is closed');
  }

  private attachWebRtcBin(element: NativeObject): WebRtcBin {
    if (attachWebRtcBin === undefined) throw new TypeError('WebRtcBin is not loaded: import it from the package, not from lib/core/pipeline alone');
    const webrtcbin = attachWebRtcBin(this, element);
    this.webrtcbins.set(element.name ?? '', webrtcbin);
    return webrtcbin;
  }

  /** @internal Called by a standalone WebRtcBin for the element it created. */
  adoptWebRtcBin(webrtcbin: WebRtcBin): void {
    this.webrtcbins.set(webrtcbin.name, webrtcbin);
  }

  private async changeState(target: PipelineState): Promise<void> {
    this.assertOpen();
    for (const waiter of this.stateWaiters.splice(0)) {
      if (waiter.target === target) this.stateWaiters.push(waiter);
      else waiter.reject(new InvalidStateError(`the change to ${waiter.target} was superseded by a change to ${target}`));
    }
    this.lastError = undefined;
    this.handle.setPlaying(target === 'playing');
    // Registered first: the state-changed message of an 'async' change can arrive before its `done`.
    const reached = new Promise<void>((resolve, reject) => this.stateWaiters.push({ target, resolve, reject }));
    reached.catch(() => undefined); // awaited below; this only stops an unhandled rejection if the operation fails first
    const result = (await this.handle.operation(this.handle.native.setState(target))) as StateChangeResult;
    if (result === 'success' || result === 'no-preroll') this.settleWaiters(target);
    // 'async' settles with a state-changed message; 'failure' here, with the error
    // message that explains it (queued before this `done`) when there was one.
    else if (result === 'failure') {
      const error = this.lastError ?? new GstError(`the pipeline could not change to ${target}`);
      for (const waiter of this.stateWaiters.splice(0)) waiter.reject(error);
    }
    await reached;
  }

  private onBusEvent(event: BusEvent): void {
    if (this.isClosed) return; // the NULL transition close() caused, queued before it
    switch (event.type) {
      case 'error': {
        const error = toBusError(event.data);
        this.lastError = error;
        for (const waiter of this.stateWaiters.splice(0)) waiter.reject(error);
        this.dispatchError('error', error);
        break;
      }
      case 'warning':
        this.dispatch('warning', toBusError(event.data));
        break;
      case 'eos':
        this.dispatch('eos');
        break;
      case 'state-changed': {
        const { new: state, old, pending } = event.data;
        if (pending === 'void-pending') this.settleWaiters(state);
        this.dispatch('statechange', state, old);
        break;
      }
    }
  }

  private settleWaiters(state: PipelineState): void {
    for (let i = this.stateWaiters.length - 1; i >= 0; i--) {
      if (this.stateWaiters[i].target === state) this.stateWaiters.splice(i, 1)[0].resolve();
    }
  }
}

function toBusError(data: ProblemData): GstError {
  const error = data.error instanceof GstError ? data.error : new GstError(String(data.error ?? 'unknown error'));
  if (typeof data.debug === 'string') error.debug = data.debug;
  if (typeof data.source === 'string') error.source = data.source;
  return error;
}
