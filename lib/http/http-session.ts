// One WHIP or WHEP session on our server: its resource URL, its WebRtcBin, and
// how it ends (once, with a reason, after the application's last tasks).
import { randomBytes } from 'node:crypto';

import { SafeEmitter, type ListenerErrorEvent } from '../core/safe-emitter.js';
import type { WebRtcBin } from '../core/webrtcbin.js';

/** Why a session ended. */
export type HttpSessionEndReason = 'deleted' | 'closed' | 'expired' | 'failed' | 'server-closed';

/** Events of one session. */
export interface HttpSessionEvents extends ListenerErrorEvent {
  /** The session ended and its resources were freed. */
  close: [reason: HttpSessionEndReason];
}

/** One WHIP or WHEP session on our server: its resource URL and its WebRtcBin. */
export class HttpSession extends SafeEmitter<HttpSessionEvents> {
  /** The id in the resource URL. */
  readonly id: string;
  /** The absolute resource URL (`Location`). */
  readonly url: string;
  /** The session's WebRtcBin (for WHIP: receiving; for WHEP: the fan-out's viewer). */
  readonly webrtcbin: WebRtcBin;
  /** The client's address. */
  readonly remoteAddress: string;
  /** @internal */
  etag = `"${randomBytes(9).toString('base64url')}"`;
  /** @internal The ICE username fragment of the client's offer (a different one in a PATCH asks for an ICE restart). */
  remoteUfrag: string | null = null;
  /** @internal Tasks to finish before the WebRtcBin is released (see beforeRelease). */
  readonly releaseTasks: (() => unknown)[] = [];
  private ending: Promise<void> | null = null;

  /** @internal */
  constructor(
    id: string,
    url: string,
    webrtcbin: WebRtcBin,
    remoteAddress: string,
    private readonly end: (session: HttpSession, reason: HttpSessionEndReason) => Promise<void>,
  ) {
    super();
    this.id = id;
    this.url = url;
    this.webrtcbin = webrtcbin;
    this.remoteAddress = remoteAddress;
  }

  /** Whether the session ended. */
  get closed(): boolean {
    return this.ending !== null;
  }

  /**
   * Runs `task` when the session ends, before its WebRtcBin is closed, e.g.
   * `session.beforeRelease(() => recorder.stop())` so a recording is finished
   * while its media is still there. Each task may take up to 5 s.
   */
  beforeRelease(task: () => unknown): void {
    if (typeof task !== 'function') throw new TypeError('beforeRelease takes a function');
    this.releaseTasks.push(task);
  }

  /** Ends the session and frees it (as a DELETE would). Idempotent. */
  close(): Promise<void> {
    return this.finish('closed');
  }

  /** @internal */
  finish(reason: HttpSessionEndReason): Promise<void> {
    if (this.ending === null) {
      this.ending = this.end(this, reason).then(() => {
        this.dispatch('close', reason);
      });
    }
    return this.ending;
  }
}

