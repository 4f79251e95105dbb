import { Element } from './element.js';
import { GstError, InvalidStateError } from './errors.js';
import { checkBranchDescription, checkLaunchDescription } from './launch-guard.js';
import { withInstallHint } from './missing-dependency.js';
import { native, type NativeObject, type NativePipeline, type StateName } from './native.js';
import { SafeEmitter, type ListenerErrorEvent } from './safe-emitter.js';
import { WebRtcBin } from './webrtcbin.js';

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

/** @internal Receives the events of one native target (a webrtcbin, a data channel). */
export type TargetHandler = (type: string, data: Record<string, unknown> | null) => void;

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
 * ```ts
 * const pipeline = new Pipeline('videotestsrc is-live=true ! vp8enc ! rtpvp8pay ! webrtcbin name=tx');
 * await pipeline.play();
 * ```
 */
export class Pipeline extends SafeEmitter<PipelineEvents> {
  /** @internal */
  readonly native: NativePipeline;
  private readonly targets = new Map<number, TargetHandler>();
  private readonly webrtcbins = new Map<string, WebRtcBin>();
  private readonly stateWaiters: StateWaiter[] = [];
  private targetState: PipelineState = 'null';
  private operations = 0;
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
      this.native = new native.NativePipeline(description ?? null, (target, type, data) => this.onNativeEvent(target, type, data));
    } catch (error) {
      throw withInstallHint(error);
    }
    // Attach to every webrtcbin now, so no signal is missed before getWebRtcBin() is called.
    for (const element of this.native.elementsByFactory('webrtcbin')) this.attachWebRtcBin(element);
  }

  /** The pipeline's current state. */
  get state(): PipelineState {
    return this.native.getState();
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
    this.native.sendEos();
  }

  /**
   * Stops the pipeline and frees everything it holds. Idempotent. Its WebRtcBins
   * are closed too, and pending operations reject with InvalidStateError.
   */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const webrtcbin of this.webrtcbins.values()) webrtcbin.close();
    this.native.close();
    this.targets.clear();
    const closedError = new InvalidStateError('the pipeline was closed');
    for (const waiter of this.stateWaiters.splice(0)) waiter.reject(closedError);
    this.dispatch('close');
  }

  /** An element by name (searched recursively), or null. */
  getElement(name: string): Element | null {
    this.assertOpen();
    if (typeof name !== 'string') throw new TypeError('element name must be a string');
    const element = this.native.getElement(name);
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
    const element = this.native.getElement(name);
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
      bin = this.native.addBin(description);
    } catch (error) {
      throw withInstallHint(error);
    }
    return new Element(bin, this);
  }

  /** Links two elements (requesting pads as needed) and starts `sink` and `src` if the pipeline runs. */
  link(src: Element, sink: Element): void {
    this.assertOpen();
    if (!(src instanceof Element) || !(sink instanceof Element)) throw new TypeError('link() takes two Elements');
    this.native.link(src.native, sink.native);
    this.native.syncState(sink.native);
    this.native.syncState(src.native);
  }

  /** Stops an element and removes it from the pipeline. */
  remove(element: Element): void {
    this.assertOpen();
    if (!(element instanceof Element)) throw new TypeError('remove() takes an Element');
    this.native.removeElement(element.native);
  }

  /** Running time of the pipeline clock in nanoseconds, or null when it has none. */
  get runningTime(): number | null {
    return this.isClosed ? null : this.native.clockTime();
  }

  /** @internal Routes a native target's events (webrtcbins, data channels) to its handler. */
  registerTarget(id: number, handler: TargetHandler): void {
    this.targets.set(id, handler);
  }

  /** @internal */
  unregisterTarget(id: number): void {
    this.targets.delete(id);
  }

  /**
   * @internal Keeps the process alive while an asynchronous operation (a webrtcbin
   * promise) is pending. Call the returned function once it settles.
   */
  holdOperation(): () => void {
    this.operations++;
    this.updateKeepAlive();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.operations--;
      this.updateKeepAlive();
    };
  }

  /** @internal Throws InvalidStateError once closed. */
  assertOpen(): void {
    if (this.isClosed) throw new InvalidStateError('the pipeline is closed');
  }

  private attachWebRtcBin(element: NativeObject): WebRtcBin {
    const webrtcbin = WebRtcBin.attach(this, element);
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
    this.targetState = target;
    this.lastError = undefined;
    this.updateKeepAlive();
    const result = this.native.setState(target);
    if (result === 'success' || result === 'no-preroll') return;
    // 'async' settles with a state-changed message; 'failure' with the native
    // 'state-change-failed' marker, queued behind the error that caused it.
    await new Promise<void>((resolve, reject) => this.stateWaiters.push({ target, resolve, reject }));
  }

  private updateKeepAlive(): void {
    if (this.isClosed) return;
    this.native.setKeepAlive(this.targetState === 'playing' || this.operations > 0);
  }

  private onNativeEvent(target: number, type: string, data: Record<string, unknown> | null): void {
    if (this.isClosed) return; // the NULL transition close() caused, queued before it
    if (target !== 0) {
      this.targets.get(target)?.(type, data);
      return;
    }
    switch (type) {
      case 'error': {
        const error = toBusError(data);
        this.lastError = error;
        for (const waiter of this.stateWaiters.splice(0)) waiter.reject(error);
        this.dispatchError('error', error);
        break;
      }
      case 'warning':
        this.dispatch('warning', toBusError(data));
        break;
      case 'eos':
        this.dispatch('eos');
        break;
      case 'state-changed': {
        const state = data?.new as PipelineState;
        if (data?.pending === 'void-pending') this.settleWaiters(state);
        this.dispatch('statechange', state, data?.old as PipelineState);
        break;
      }
      case 'state-change-failed': {
        const error = this.lastError ?? new GstError(`the pipeline could not change to ${String(data?.target)}`);
        for (const waiter of this.stateWaiters.splice(0)) waiter.reject(error);
        break;
      }
      case 'latency':
        // A new stream (e.g. a webrtcbin's jitterbuffer) changed the latency: redistribute it.
        if (!this.isClosed) this.native.recalculateLatency();
        break;
      case 'clock-lost':
        // The clock provider went away: the standard recovery is to pause and play again.
        if (this.targetState === 'playing' && !this.isClosed) {
          this.native.setState('paused');
          this.native.setState('playing');
        }
        break;
    }
  }

  private settleWaiters(state: PipelineState): void {
    for (let i = this.stateWaiters.length - 1; i >= 0; i--) {
      if (this.stateWaiters[i].target === state) this.stateWaiters.splice(i, 1)[0].resolve();
    }
  }
}

function toBusError(data: Record<string, unknown> | null): GstError {
  const error = data?.error instanceof GstError ? data.error : new GstError(String(data?.error ?? 'unknown error'));
  if (typeof data?.debug === 'string') error.debug = data.debug;
  if (typeof data?.source === 'string') error.source = data.source;
  return error;
}
