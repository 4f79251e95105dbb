// WHEP server (egress): every viewer that POSTs an offer gets a viewer of one
// source (a MediaFanOut: one encode for all; an RtspBridge: one camera session).
import type { IncomingMessage } from 'node:http';

import { OperationError } from '../core/errors.js';
import type { WebRtcBin } from '../core/webrtcbin.js';
import type { ViewerSource } from '../media/viewer-sessions.js';
import { HttpRefusal } from './http-body.js';
import type { HttpSession } from './http-session.js';
import { HttpSessionServer, type HttpSessionServerEvents, type HttpSessionServerOptions, type SessionMedia } from './session-server.js';

/** Options of WhepServer. */
export interface WhepServerOptions extends HttpSessionServerOptions {
  /** What viewers get: a MediaFanOut or an RtspBridge (anything with addViewer/removeViewer). */
  source: ViewerSource;
}

/** Events of WhepServer. */
export type WhepServerEvents = HttpSessionServerEvents;

/**
 * A WHEP endpoint: each viewer's offer is answered by a new viewer of the
 * source, with the viewer's payload types and m-line order; DELETE, a failed
 * connection or a vanished peer removes it.
 *
 * ```ts
 * const fanOut = new MediaFanOut({ video: { source: 'videotestsrc is-live=true' } });
 * await fanOut.start();
 * const whep = new WhepServer({ source: fanOut });
 * const url = await whep.listen(8080); // http://127.0.0.1:8080/whep
 * ```
 */
export class WhepServer extends HttpSessionServer<WhepServerEvents> {
  private readonly source: ViewerSource;

  /** @throws TypeError for invalid options. */
  constructor(options: WhepServerOptions) {
    super('/whep', options ?? ({} as WhepServerOptions));
    const source = options?.source;
    if (typeof source !== 'object' || source === null || typeof source.addViewer !== 'function' || typeof source.removeViewer !== 'function') {
      throw new TypeError('WhepServer needs a source: a MediaFanOut or an RtspBridge');
    }
    this.source = source;
  }

  protected createMedia(offer: string, _request: IncomingMessage): SessionMedia {
    let viewer;
    try {
      viewer = this.source.addViewer({ remoteOffer: { type: 'offer', sdp: offer } });
    } catch (error) {
      if (error instanceof OperationError || error instanceof TypeError) throw new HttpRefusal(406, (error as Error).message);
      throw new HttpRefusal(503, `the source cannot take a viewer now: ${(error as Error).message}`);
    }
    return { webrtcbin: viewer, ready: capsReady(viewer), release: () => this.source.removeViewer(viewer) };
  }

  protected sessionCreated(_session: HttpSession): void {}
}

/** How long an answer waits for a new viewer's media caps. */
const CAPS_WAIT_MS = 2000;

/**
 * Resolves once the viewer's media has caps (its `negotiationneeded`, which
 * WebRtcBin holds back until every sink pad has caps), or after CAPS_WAIT_MS.
 * An answer made before then has no a=ssrc lines, and browsers, which demux a
 * BUNDLE by SSRC when webrtcbin sends no MID header extension, then drop the media.
 */
function capsReady(viewer: WebRtcBin): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      viewer.off('negotiationneeded', done);
      viewer.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, CAPS_WAIT_MS);
    viewer.on('negotiationneeded', done);
    viewer.on('close', done);
  });
}
