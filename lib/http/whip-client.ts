// WHIP client (RFC 9725): publishes a WebRtcBin's media, or a MediaFanOut's,
// to any WHIP endpoint (a media server, an ingest service, our WhipServer).
import { InvalidStateError } from '../core/errors.js';
import { MediaFanOut } from '../media/fan-out.js';
import { WebRtcBin } from '../core/webrtcbin.js';
import { WhipError } from './errors.js';
import { HttpSessionClient, type HttpSessionClientEvents, type HttpSessionClientOptions } from './session-client.js';

/** Options of WhipClient. */
export type WhipClientOptions = HttpSessionClientOptions;

/** Events of WhipClient. */
export type WhipClientEvents = HttpSessionClientEvents;

/**
 * Publishes to a WHIP endpoint: POSTs the offer of a WebRtcBin whose
 * transceivers send (or of a new viewer of a MediaFanOut), applies the answer,
 * trickles later candidates with PATCH, and DELETEs the session on close().
 *
 * ```ts
 * const fanOut = new MediaFanOut({ video: { source: 'videotestsrc is-live=true' } });
 * await fanOut.start();
 * const whip = new WhipClient('https://media.example/whip/live', { token: 'secret' });
 * await whip.publish(fanOut);
 * // ...
 * await whip.close();
 * ```
 *
 * A WebRtcBin inside a pipeline of yours is published the same way:
 * `whip.publish(pipeline.getWebRtcBin('sender'))`.
 */
export class WhipClient extends HttpSessionClient<WhipClientEvents> {
  private fanOut: MediaFanOut | null = null;
  private published: WebRtcBin | null = null;

  /** @throws TypeError for an endpoint that is not an http(s) URL, or invalid options. */
  constructor(endpoint: string | URL, options: WhipClientOptions = {}) {
    super(String(endpoint), options, (details) => new WhipError(details));
  }

  /** The WebRtcBin being published (for a MediaFanOut: its viewer), or null before publish(). */
  get webrtcbinPublished(): WebRtcBin | null {
    return this.published;
  }

  /**
   * Publishes `source`: a WebRtcBin with sending transceivers or tracks (yours
   * stays yours: close() does not close it), or a MediaFanOut, which gets a new
   * viewer for the server (removed again on close()). Resolves once the
   * server's answer is applied; media flows when ICE and DTLS connect.
   * @throws WhipError with the HTTP status and the server's reason; InvalidStateError when already published or closed.
   */
  async publish(source: WebRtcBin | MediaFanOut): Promise<WebRtcBin> {
    if (this.closed) throw new InvalidStateError('the WhipClient is closed');
    if (this.published !== null) throw new InvalidStateError('a WhipClient publishes once; make another for another session');
    let webrtcbin: WebRtcBin;
    if (source instanceof MediaFanOut) {
      this.fanOut = source;
      webrtcbin = source.addViewer();
    } else if (source instanceof WebRtcBin) {
      webrtcbin = source;
    } else {
      throw new TypeError('publish() takes a WebRtcBin or a MediaFanOut');
    }
    this.published = webrtcbin;
    try {
      await this.negotiate(webrtcbin);
    } catch (error) {
      await this.close();
      throw error;
    }
    return webrtcbin;
  }

  protected async release(): Promise<void> {
    if (this.fanOut !== null && this.published !== null) await this.fanOut.removeViewer(this.published);
  }
}
