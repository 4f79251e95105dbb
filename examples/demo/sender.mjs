// The GStreamer side of the demo: a signalling peer that streams to every browser
// ("viewer") that joins, one WebRtcBin per browser, and decodes what each browser
// sends back.
import { PeerSession, Pipeline, SignallingClient, WebRtcBin } from 'gst-webrtc-node';

import { COUNTING_SINKS, receiverBranch, senderBranches } from './media.mjs';

/** Role the page announces in its hello. */
export const VIEWER_ROLE = 'viewer';
/** Role of the GStreamer sender. */
export const SENDER_ROLE = 'gstreamer';

const COUNT_INTERVAL_MS = 1000;
const REPORT_INTERVAL_MS = 10_000;
const CHECK_TIMEOUT_MS = 10_000;

/**
 * @typedef {object} SenderOptions
 * @property {string} [source] `--source`: test, v4l2, /dev/videoN or a raw-video fragment.
 * @property {string} [audioSource] `--audio-source`: test, none or a raw-audio fragment.
 * @property {string} [videoSink] Extra sink fragment for the browser's camera.
 * @property {string} [audioSink] Extra sink fragment for the browser's microphone.
 * @property {import('gst-webrtc-node').IceServer[]} [iceServers] STUN/TURN; none by default.
 * @property {(line: string) => void} [log]
 */

/**
 * @typedef {object} ViewerStatus
 * @property {string} peerId
 * @property {string} name
 * @property {string} connectionState
 * @property {number} videoFramesReceived Frames of the browser's camera decoded so far.
 * @property {number} audioBuffersReceived Buffers of the browser's microphone decoded so far.
 */

/** One browser we stream to. */
class Viewer {
  /**
   * @param {string} peerId
   * @param {string} name
   * @param {WebRtcBin} webrtcbin
   */
  constructor(peerId, name, webrtcbin) {
    this.peerId = peerId;
    this.name = name;
    this.webrtcbin = webrtcbin;
    /** @type {PeerSession | undefined} */
    this.session = undefined;
    this.videoFramesReceived = 0;
    this.audioBuffersReceived = 0;
    this.reported = { video: 0, audio: 0, at: Date.now() };
  }

  /** @returns {ViewerStatus} */
  status() {
    return {
      peerId: this.peerId,
      name: this.name,
      connectionState: this.webrtcbin.connectionState,
      videoFramesReceived: this.videoFramesReceived,
      audioBuffersReceived: this.audioBuffersReceived,
    };
  }

  /** Reads the counting sinks; returns true when a count changed. */
  count() {
    if (this.webrtcbin.closed) return false;
    const rendered = (/** @type {string} */ name) => {
      const stats = /** @type {{ rendered?: number } | undefined} */ (this.webrtcbin.pipeline.getElement(name)?.get('stats'));
      return stats?.rendered ?? 0;
    };
    const video = rendered(COUNTING_SINKS.video);
    const audio = rendered(COUNTING_SINKS.audio);
    const changed = video !== this.videoFramesReceived || audio !== this.audioBuffersReceived;
    this.videoFramesReceived = video;
    this.audioBuffersReceived = audio;
    return changed;
  }
}

/**
 * Connects to the signalling server as the `gstreamer` peer and streams to each
 * `viewer` peer in the room.
 */
export class Sender {
  /** @param {SenderOptions} options */
  constructor(options = {}) {
    this.options = options;
    this.log = options.log ?? ((line) => console.log(line));
    this.branches = senderBranches(options);
    this.client = new SignallingClient();
    /** @type {Map<string, Viewer>} */
    this.viewers = new Map();
    this.closed = false;
    /** @type {NodeJS.Timeout | undefined} */
    this.counter = undefined;
  }

  /**
   * Connects to the signalling server and starts streaming to the viewers
   * already there and to every one that joins.
   * @param {string} url ws:// URL of the signalling server
   */
  async start(url) {
    await this.check();
    this.client.on('error', (error) => this.log(`signalling: ${error.message}`));
    this.client.on('peerjoined', (peer) => this.welcome(peer));
    await this.client.connect(url, { role: SENDER_ROLE, name: 'GStreamer' });
    for (const peer of await this.client.listPeers()) this.welcome(peer);
    this.counter = setInterval(() => this.countFrames(), COUNT_INTERVAL_MS);
  }

  /**
   * Fails now, rather than when the first browser joins, on a source that does not
   * parse or cannot start (no such camera), a missing plugin, or an ICE server
   * webrtcbin cannot use.
   */
  async check() {
    new WebRtcBin({ iceServers: this.options.iceServers }).close();
    for (const branch of this.branches) {
      const pipeline = new Pipeline(`${branch} ! fakesink`);
      pipeline.on('error', () => undefined); // play() rejects with it
      let timer;
      try {
        await Promise.race([
          pipeline.play(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`the source "${branch}" did not start within ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS);
          }),
        ]);
      } catch (error) {
        const source = /** @type {import('gst-webrtc-node').GstError} */ (error).source;
        throw new Error(`cannot send ${branch.split(' ! ')[0]}: ${/** @type {Error} */ (error).message}${source ? ` (${source})` : ''}`);
      } finally {
        clearTimeout(timer);
        pipeline.close();
      }
    }
  }

  /** @returns {ViewerStatus[]} */
  status() {
    return [...this.viewers.values()].map((viewer) => viewer.status());
  }

  /** Stops every stream and leaves the signalling server. */
  async close() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.counter);
    for (const viewer of this.viewers.values()) viewer.webrtcbin.close();
    this.viewers.clear();
    await this.client.close();
  }

  /** @param {import('gst-webrtc-node').PeerInfo} peer */
  welcome(peer) {
    if (peer.role !== VIEWER_ROLE) return;
    this.stream(peer.peerId, peer.name).catch((error) => this.log(`[${peer.peerId.slice(0, 6)}] ${error.message}`));
  }

  /**
   * Starts a session with a viewer and streams to it.
   * @param {string} peerId
   * @param {string | undefined} name
   */
  async stream(peerId, name) {
    if (this.closed || this.viewers.has(peerId)) return;
    const tag = `[${peerId.slice(0, 6)}]`;
    const webrtcbin = new WebRtcBin({ iceServers: this.options.iceServers, latency: 100 });
    const viewer = new Viewer(peerId, name ?? 'browser', webrtcbin);
    this.viewers.set(peerId, viewer);
    this.log(`${tag} ${viewer.name} joined: streaming to it`);

    webrtcbin.on('connectionstatechange', (state) => {
      this.log(`${tag} connection ${state}`);
      if (state === 'failed') viewer.session?.close();
    });
    webrtcbin.on('track', (track) => this.receive(tag, track));
    webrtcbin.pipeline.on('error', (error) => {
      this.log(`${tag} pipeline error: ${error.message}${error.source ? ` (${error.source})` : ''}`);
      viewer.session?.close();
      this.drop(viewer);
    });
    webrtcbin.pipeline.on('warning', (warning) => this.log(`${tag} pipeline warning: ${warning.message}`));
    try {
      viewer.session = await PeerSession.start(webrtcbin, this.client, peerId, { role: 'offerer' });
    } catch (error) {
      this.log(`${tag} could not start a session: ${/** @type {Error} */ (error).message}`);
      this.drop(viewer);
      return;
    }
    if (this.viewers.get(peerId) !== viewer) {
      viewer.session.close(); // dropped meanwhile (a pipeline error, or the sender closed)
      return;
    }
    viewer.session.on('error', (error) => this.log(`${tag} negotiation error: ${error.message}`));
    viewer.session.once('ended', (reason) => {
      this.log(`${tag} session ended (${reason})`);
      this.drop(viewer);
    });
    try {
      // The first offer goes out once these have caps.
      for (const branch of this.branches) webrtcbin.addTrack(branch);
    } catch (error) {
      // e.g. the camera is busy, streaming to another browser: ending the session tells the page.
      this.log(`${tag} could not start the source: ${/** @type {Error} */ (error).message}`);
      viewer.session.close();
    }
  }

  /**
   * Decodes one track a browser sends (its camera or microphone).
   * @param {string} tag
   * @param {import('gst-webrtc-node').Track} track
   */
  receive(tag, track) {
    const branch = receiverBranch(track, track.kind === 'video' ? this.options.videoSink : this.options.audioSink);
    if (branch === null) {
      this.log(`${tag} receiving ${track.kind} in ${track.encodingName}, which the demo does not decode: discarded`);
      track.discard();
      return;
    }
    try {
      track.link(branch);
      this.log(`${tag} receiving ${track.kind} (${track.encodingName}) from the browser`);
    } catch (error) {
      this.log(`${tag} cannot decode the browser's ${track.kind}: ${/** @type {Error} */ (error).message}`);
      track.discard();
    }
  }

  /** @param {Viewer} viewer */
  drop(viewer) {
    if (this.viewers.get(viewer.peerId) !== viewer) return;
    this.viewers.delete(viewer.peerId);
    viewer.webrtcbin.close();
  }

  countFrames() {
    const now = Date.now();
    for (const viewer of this.viewers.values()) {
      if (!viewer.count()) continue;
      const { reported } = viewer;
      const started = (reported.video === 0 && viewer.videoFramesReceived > 0) || (reported.audio === 0 && viewer.audioBuffersReceived > 0);
      if (started || now - reported.at >= REPORT_INTERVAL_MS) {
        this.log(
          `[${viewer.peerId.slice(0, 6)}] from the browser: ${viewer.videoFramesReceived} video frames, ` +
            `${viewer.audioBuffersReceived} audio buffers decoded`,
        );
        viewer.reported = { video: viewer.videoFramesReceived, audio: viewer.audioBuffersReceived, at: now };
      }
    }
  }
}
