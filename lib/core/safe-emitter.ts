import { EventEmitter } from 'node:events';

/** Every emitter in this package also has this event. */
export interface ListenerErrorEvent {
  /**
   * A listener threw, or returned a Promise that rejected. The library carries on;
   * without a `listenererror` listener the error is printed as a process warning.
   */
  listenererror: [error: unknown, event: string];
}

type EventMap<T> = { [K in keyof T]: unknown[] };

/**
 * An EventEmitter with a typed event map whose internal `dispatch` never lets a
 * listener's exception (or rejected Promise) escape into the library: one bad
 * listener cannot break negotiation or the native event queue.
 */
export class SafeEmitter<Events extends EventMap<Events> & ListenerErrorEvent> extends EventEmitter<Events> {
  /** Calls each listener of `event` in turn; returns whether there was any. */
  protected dispatch<K extends keyof Events & string>(event: K, ...args: Events[K]): boolean {
    const untyped = this as unknown as EventEmitter;
    // rawListeners keeps `once` wrappers, so once-listeners are removed as usual.
    const listeners = untyped.rawListeners(event) as ((...a: unknown[]) => unknown)[];
    for (const listener of listeners) {
      try {
        const result = listener.apply(this, args);
        if (result instanceof Promise) result.catch((error: unknown) => this.reportListenerError(error, event));
      } catch (error) {
        this.reportListenerError(error, event);
      }
    }
    return listeners.length > 0;
  }

  private reportListenerError(error: unknown, event: string): void {
    const untyped = this as unknown as EventEmitter;
    if (event !== 'listenererror' && untyped.listenerCount('listenererror') > 0) {
      this.dispatch('listenererror', ...([error, event] as Events['listenererror']));
      return;
    }
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.emitWarning(`a '${event}' listener of ${this.constructor.name} threw: ${text}`, 'ListenerError');
  }

  /** Dispatches an error event; with no listener the error becomes a process warning, not a crash. */
  protected dispatchError<K extends keyof Events & string>(event: K, ...args: Events[K]): void {
    if (!this.dispatch(event, ...args)) {
      const error = args[0];
      const text = error instanceof Error ? error.message : String(error);
      process.emitWarning(`unhandled '${event}' event on ${this.constructor.name}: ${text}`, 'GstWebRtcNodeWarning');
    }
  }
}
