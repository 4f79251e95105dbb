// A browser stand-in for fan-out tests: a standalone WebRtcBin that answers a
// viewer's offer and decodes what it receives (H.264 with avdec_h264, VP8, Opus)
// into counting sinks.
import { PeerConnector, type Track, WebRtcBin, type WebRtcBinOptions } from '../../lib/index.js';
import { rendered } from './media.js';

const DECODERS: Record<string, string> = {
  // output-corrupt=false: a frame counts only when decoded from a keyframe on, not guessed from missing references.
  H264: 'rtph264depay ! avdec_h264 output-corrupt=false',
  VP8: 'rtpvp8depay ! vp8dec',
  OPUS: 'rtpopusdepay ! opusdec',
};

export interface Receiver {
  webrtcbin: WebRtcBin;
  tracks: Track[];
  /** Video frames decoded so far. */
  readonly videoFrames: number;
  /** Audio buffers decoded so far. */
  readonly audioBuffers: number;
  close(): void;
}

/** A WebRtcBin that decodes every track it receives; `video-out` and `audio-out` count them. */
export function createReceiver(options: WebRtcBinOptions = {}): Receiver {
  const webrtcbin = new WebRtcBin({ latency: 50, ...options });
  const tracks: Track[] = [];
  webrtcbin.on('track', (track) => {
    tracks.push(track);
    const decoder = DECODERS[track.encodingName];
    // Not thrown: the library would turn it into a warning. Tests see the codec in `tracks`.
    if (decoder === undefined) return track.discard();
    track.link(`${decoder} ! fakesink name=${track.kind}-out sync=false async=false`);
  });
  return {
    webrtcbin,
    tracks,
    get videoFrames() {
      return webrtcbin.closed ? 0 : rendered(webrtcbin.pipeline, 'video-out');
    },
    get audioBuffers() {
      return webrtcbin.closed ? 0 : rendered(webrtcbin.pipeline, 'audio-out');
    },
    close: () => webrtcbin.close(),
  };
}

/** Negotiates `sender` (offerer) with a new receiver; resolves once negotiated. */
export async function receive(sender: WebRtcBin, options: WebRtcBinOptions = {}): Promise<Receiver> {
  const receiver = createReceiver(options);
  try {
    await PeerConnector.pair(sender, receiver.webrtcbin);
  } catch (error) {
    receiver.close();
    throw error;
  }
  return receiver;
}
