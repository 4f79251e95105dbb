// WHIP server (RFC 9725 ingest): OBS, browsers, our WhipClient or any WHIP
// client publishes; each session reaches the application as a WebRtcBin and its
// tracks, to record, forward or fan out.
import type { IncomingMessage } from 'node:http';

import type { Track } from '../core/track.js';
import { WebRtcBin } from '../core/webrtcbin.js';
import type { HttpSession } from './http-session.js';
import { HttpSessionServer, type HttpSessionServerEvents, type HttpSessionServerOptions, type SessionMedia } from './session-server.js';

/** Options of WhipServer. */
export interface WhipServerOptions extends HttpSessionServerOptions {
  /** Jitterbuffer latency of each session's WebRtcBin, in milliseconds. Default: webrtcbin's (200). */
  latency?: number;
}

/** Events of WhipServer. */
export interface WhipServerEvents extends HttpSessionServerEvents {
  /**
   * A published stream arrived: link it (`track.link('rtph264depay ! ...')`)
   * or discard it. `session` says whose it is. Tracks also arrive as
   * `session.webrtcbin`'s `track` events (a WebRtcRecorder takes them there);
   * with no listener for either, they are discarded.
   */
  track: [track: Track, session: HttpSession];
}

/**
 * A WHIP endpoint: each POSTed offer becomes a session with its own receiving
 * WebRtcBin; its media arrives as `track` events.
 *
 * ```ts
 * const whip = new WhipServer({ token: 'secret' });
 * whip.on('track', (track, session) => track.link('decodebin ! autovideosink'));
 * const url = await whip.listen(8080); // http://127.0.0.1:8080/whip
 * ```
 */
export class WhipServer extends HttpSessionServer<WhipServerEvents> {
  /** @throws TypeError for invalid options. */
  constructor(options: WhipServerOptions = {}) {
    super('/whip', options);
    if (options.latency !== undefined && (!Number.isInteger(options.latency) || options.latency < 0)) throw new TypeError('latency must be a non-negative integer (milliseconds)');
  }

  protected createMedia(_offer: string, _request: IncomingMessage): SessionMedia {
    const options = this.options as WhipServerOptions;
    const webrtcbin = new WebRtcBin({ bundlePolicy: 'max-bundle', iceServers: options.iceServers, latency: options.latency });
    return {
      webrtcbin,
      release: async () => webrtcbin.close(),
    };
  }

  protected sessionCreated(session: HttpSession): void {
    const webrtcbin = session.webrtcbin;
    webrtcbin.on('track', (track) => {
      const heard = (this as unknown as { dispatch(event: 'track', track: Track, session: HttpSession): boolean }).dispatch('track', track, session);
      // Nobody listens (neither to us nor to the WebRtcBin, as a WebRtcRecorder
      // does): discard it, so the unlinked pad does not stop the session.
      if (!heard && webrtcbin.listenerCount('track') === 1 && !track.linked) track.discard();
    });
  }
}
