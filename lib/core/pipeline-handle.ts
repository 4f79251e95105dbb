// The one place that holds a pipeline's native handle and routes its events:
// bus events to the Pipeline, the other targets' events to their subscribers,
// and the `done` of each queued operation to the Promise waiting for it.
//
// Internal: Pipeline makes one; WebRtcBin, DataChannel, Track and the branch
// module (./branch.ts) reach it through pipelineHandle(). Users never see it.
import { GstError, InvalidStateError } from './errors.js';
import { native, type BusEvent, type NativePipeline, type TargetEvents, type TargetKind } from './native.js';

/** Something that stops when disposed (a subscription). dispose() is idempotent. */
export interface Disposable {
  dispose(): void;
}

interface PendingOperation {
  resolve: (result: string | undefined) => void;
  reject: (error: Error) => void;
  release: () => void;
}

type DoneData = Extract<BusEvent, { type: 'done' }>['data'];

type AnyHandler = (event: { type: string; data: unknown }) => void;

/** @internal A pipeline's native handle, its event routing and what keeps Node.js alive for it. */
export class PipelineHandle {
  readonly native: NativePipeline;
  private readonly targets = new Map<number, AnyHandler>();
  private readonly operations = new Map<number, PendingOperation>();
  private holds = 0;
  private playing = false;
  private isClosed = false;
  /** What the addon was last told by setKeepAlive (it starts not keeping Node.js alive). */
  private keepingAlive = false;

  /**
   * @param onBusEvent the pipeline's bus events.
   * @param onBackgroundError failures of queued operations nobody awaits (see background()).
   * @throws GstError when the description does not parse.
   */
  constructor(
    description: string | null,
    onBusEvent: (event: BusEvent) => void,
    private readonly onBackgroundError: (error: GstError) => void,
  ) {
    // Native events arrive in order, several in one turn of the event loop. As in
    // browsers each is delivered as a task of its own (in order, across this
    // pipeline's targets), so the continuations of a promise settled by one event
    // run before the next event.
    this.native = new native.NativePipeline(description, (target, type, data) => {
      setImmediate(() => this.deliver(target, type, data, onBusEvent));
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Routes the events of a native target (a webrtcbin, a data channel, a branch
   * watch) to `handler` until the returned subscription is disposed, or the
   * pipeline closes.
   */
  subscribe<K extends TargetKind>(target: number, _kind: K, handler: (event: TargetEvents[K]) => void): Disposable {
    const routed = handler as AnyHandler;
    this.targets.set(target, routed);
    return {
      dispose: () => {
        if (this.targets.get(target) === routed) this.targets.delete(target);
      },
    };
  }

  /**
   * Waits for a queued operation (the id a NativePipeline method returned):
   * resolves with its result, rejects with its GstError, or with
   * InvalidStateError if the pipeline closes first. Keeps Node.js alive meanwhile.
   */
  operation(id: number): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      this.operations.set(id, { resolve, reject, release: this.hold() });
    });
  }

  /** A queued operation nobody awaits: its failure becomes the pipeline's `error` event. */
  background(id: number): void {
    this.operation(id).catch((error: unknown) => this.reportError(error));
  }

  /** Reports a failure nobody awaits as the pipeline's `error` event (nothing once closed). */
  reportError(error: unknown): void {
    if (!this.isClosed) this.onBackgroundError(error instanceof GstError ? error : new GstError(String(error)));
  }

  /**
   * Keeps the process alive while something asynchronous (a webrtcbin promise,
   * a queued operation) is pending. Call the returned function once it settles.
   */
  hold(): () => void {
    this.holds++;
    this.updateKeepAlive();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.updateKeepAlive();
    };
  }

  /** Whether the pipeline is meant to be playing (which keeps Node.js alive). */
  setPlaying(playing: boolean): void {
    this.playing = playing;
    this.updateKeepAlive();
  }

  /** Returns at once: the native control thread stops and frees the pipeline. Pending operations reject. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.native.close();
    this.targets.clear();
    const closedError = new InvalidStateError('the pipeline was closed');
    for (const pending of this.operations.values()) {
      pending.release();
      pending.reject(closedError);
    }
    this.operations.clear();
  }

  private deliver(target: number, type: string, data: Record<string, unknown> | null, onBusEvent: (event: BusEvent) => void): void {
    if (this.isClosed) return; // queued before close()
    if (target !== 0) this.targets.get(target)?.({ type, data });
    else if (type === 'done') this.settle(data as unknown as DoneData);
    else onBusEvent({ type, data } as BusEvent);
  }

  private settle(data: DoneData): void {
    const pending = this.operations.get(data.id);
    if (pending === undefined) return;
    this.operations.delete(data.id);
    pending.release();
    if (data.error !== undefined) pending.reject(data.error instanceof Error ? data.error : new GstError(String(data.error)));
    else pending.resolve(data.result);
  }

  private updateKeepAlive(): void {
    const keepAlive = this.playing || this.holds > 0;
    // Called for every operation queued and settled: the addon is told only of a change.
    if (this.isClosed || keepAlive === this.keepingAlive) return;
    this.keepingAlive = keepAlive;
    this.native.setKeepAlive(keepAlive);
  }
}

const handles = new WeakMap<object, PipelineHandle>();

/** @internal Pipeline registers its handle here. */
export function registerPipelineHandle(pipeline: object, handle: PipelineHandle): void {
  handles.set(pipeline, handle);
}

/** @internal The handle of a Pipeline. */
export function pipelineHandle(pipeline: object): PipelineHandle {
  const handle = handles.get(pipeline);
  if (handle === undefined) throw new TypeError('expected a Pipeline');
  return handle;
}

/** @internal The native pipeline of a Pipeline (for the core modules and tests that inspect it). */
export function nativePipeline(pipeline: object): NativePipeline {
  return pipelineHandle(pipeline).native;
}
