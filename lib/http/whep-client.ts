// WHEP client: plays a WHEP endpoint's media (a media server, our WhepServer)
// into a WebRtcBin, whose `track` events hand out the incoming media.
import { InvalidStateError } from '../core/errors.js';
import type { Track } from '../core/track.js';
import type { WebRtcBinOptions } from '../core/webrtcbin.js';
import { WebRtcBin } from '../core/webrtcbin.js';
import { WhepError } from './errors.js';
import { HttpSessionClient, type HttpSessionClientEvents, type HttpSessionClientOptions } from './session-client.js';

/** Options of WhepClient. */
export interface WhepClientOptions extends HttpSessionClientOptions {
  /** Options of the WebRtcBin the client makes when play() is given none (ICE servers, latency). */
  webrtcbin?: WebRtcBinOptions;
}

/** Events of WhepClient. */
export interface WhepClientEvents extends HttpSessionClientEvents {
  /** Incoming media: link it (`track.link('rtph264depay ! ...')`) or discard it. */
  track: [track: Track];
}

/** What play() receives. */
export interface WhepPlayOptions {
  /** Receive video (a recvonly transceiver offering VP8 and H.264). Default true. */
  video?: boolean;
  /** Receive audio (Opus). Default true. */
  audio?: boolean;
  /**
   * Your WebRtcBin (e.g. from `pipeline.getWebRtcBin()`); it keeps the
   * transceivers you gave it, or gets recvonly ones for `video`/`audio`. Default:
   * a new standalone WebRtcBin, closed by close().
   */
  webrtcbin?: WebRtcBin;
}

/**
 * Plays from a WHEP endpoint: POSTs a receive-only offer, applies the answer,
 * trickles candidates, emits a `track` for each incoming stream and DELETEs the
 * session on close().
 *
 * ```ts
 * const whep = new WhepClient('http://127.0.0.1:8080/whep');
 * whep.on('track', (track) => track.link(track.kind === 'video' ? 'rtph264depay ! avdec_h264 ! autovideosink' : 'rtpopusdepay ! opusdec ! autoaudiosink'));
 * await whep.play();
 * ```
 */
export class WhepClient extends HttpSessionClient<WhepClientEvents> {
  private playing: WebRtcBin | null = null;
  private ownsWebRtcBin = false;

  /** @throws TypeError for an endpoint that is not an http(s) URL, or invalid options. */
  constructor(endpoint: string | URL, options: WhepClientOptions = {}) {
    super(String(endpoint), options, (details) => new WhepError(details));
  }

  /** The WebRtcBin receiving the media, or null before play(). */
  get webrtcbinPlaying(): WebRtcBin | null {
    return this.playing;
  }

  /**
   * Starts playback. Resolves with the receiving WebRtcBin once the answer is
   * applied; `track` events follow when media arrives.
   * @throws WhepError with the HTTP status and the server's reason; InvalidStateError when already playing or closed.
   */
  async play(options: WhepPlayOptions = {}): Promise<WebRtcBin> {
    if (this.closed) throw new InvalidStateError('the WhepClient is closed');
    if (this.playing !== null) throw new InvalidStateError('a WhepClient plays once; make another for another session');
    if (typeof options !== 'object' || options === null) throw new TypeError('play() options must be an object');
    const own = options.webrtcbin === undefined;
    const webrtcbin = options.webrtcbin ?? new WebRtcBin({ bundlePolicy: 'max-bundle', ...(this.options as WhepClientOptions).webrtcbin });
    this.playing = webrtcbin;
    this.ownsWebRtcBin = own;
    try {
      webrtcbin.on('track', (track) => this.dispatch('track', track));
      if (webrtcbin.getTransceivers().length === 0) {
        if (options.video !== false) webrtcbin.addTransceiver('video', { direction: 'recvonly' });
        if (options.audio !== false) webrtcbin.addTransceiver('audio', { direction: 'recvonly' });
      }
      await this.negotiate(webrtcbin);
    } catch (error) {
      await this.close();
      throw error;
    }
    return webrtcbin;
  }

  protected async release(): Promise<void> {
    if (this.ownsWebRtcBin) this.playing?.close();
  }
}
