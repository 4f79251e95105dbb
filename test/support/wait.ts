import type { EventEmitter } from 'node:events';

/** Resolves with the arguments of the next `event` matching `accept`; rejects after `timeoutMs`. */
export function nextEvent<T extends unknown[] = unknown[]>(
  emitter: Pick<EventEmitter, 'on' | 'off'>,
  event: string,
  accept: (...args: T) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}'`));
    }, timeoutMs);
    const listener = (...args: unknown[]) => {
      if (!accept(...(args as T))) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args as T);
    };
    emitter.on(event, listener);
  });
}

/** Polls `condition` until it holds; rejects naming `what` after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves once `count()` read twice `intervalMs` apart is the same (the last frames of a stream have arrived); rejects naming `what` after `timeoutMs`. */
export async function untilSettled(count: () => number, what: string, timeoutMs = 10_000, intervalMs = 1000): Promise<void> {
  let last = -1;
  await until(
    () => {
      const now = count();
      const settled = now === last;
      last = now;
      return settled;
    },
    what,
    timeoutMs,
    intervalMs,
  );
}
