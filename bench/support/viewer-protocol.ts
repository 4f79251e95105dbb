// Messages between figure 4's sending process (a MediaFanOut) and the process
// that hosts its viewers (bench/fan-out-viewers.ts), over the child-process IPC
// channel. Signalling payloads are the library's own SessionPayload.
import type { SessionPayload } from '../../lib/index.js';

/** From the sending process to the viewers' process. */
export type ToViewers =
  /** Make viewer `id` and answer its offer. */
  | { type: 'add'; id: number }
  /** A signalling message for viewer `id`. */
  | { type: 'signal'; id: number; payload: SessionPayload }
  /** Report every viewer's frame count. */
  | { type: 'frames' }
  | { type: 'close' };

/** From the viewers' process to the sending process. */
export type FromViewers =
  | { type: 'signal'; id: number; payload: SessionPayload }
  /** Viewer `id` has received its first frame. */
  | { type: 'flowing'; id: number }
  | { type: 'error'; id: number; message: string }
  /** Frames each viewer has received so far, by id. */
  | { type: 'frames'; frames: Record<number, number> };
