// The WebRtcBin that sends in the sending figure (issue 13), and the hook where
// an adaptive bitrate joins it.
//
// Today's library encodes at a fixed bitrate. When lib/media/congestion (being
// written alongside this bench) lands, wire it in `adaptBitrate` below: it gets
// the WebRtcBin and the name of its encoder element (vp8enc, `target-bitrate`
// in bit/s, changeable while playing) and returns something to close. The
// figure then reports its rows as `adaptive` instead of `fixed`.
import { WebRtcBin } from '../../lib/index.js';

/** How the sending WebRtcBin encodes; passed down from the figure. */
export interface NetworkSenderOptions {
  /** Encoder bitrate at the start, bit/s (default 2.5 Mbit/s, the start). */
  startBitrate?: number;
  /** Lower and upper bounds for an adaptive controller, bit/s. */
  minBitrate?: number;
  maxBitrate?: number;
  /** Whether to try the adaptive controller (default true: it is used when one exists). */
  adaptive?: boolean;
}

/** The element name of the sender's encoder. */
export const ENCODER = 'encoder';
/** A sink beside the payloader that counts the frames encoded (a CPU-starved encoder makes fewer than 30 a second). */
export const ENCODED = 'encoded';

export interface NetworkSender {
  webrtcbin: WebRtcBin;
  /** 'adaptive' when a controller drives the encoder, else 'fixed'. */
  mode: 'adaptive' | 'fixed';
  close(): void;
}

/**
 * The adaptive-bitrate hook: returns a closer when a controller was attached,
 * null when there is none (today). Replace the body after merging the
 * congestion controller, e.g. `return attachCongestionController(webrtcbin, { encoder, minBitrate, maxBitrate })`.
 */
export function adaptBitrate(webrtcbin: WebRtcBin, encoder: string, options: Required<NetworkSenderOptions>): { close(): void } | null {
  void webrtcbin;
  void encoder;
  void options;
  return null;
}

/** A WebRtcBin sending a moving 640x480 test picture at 30 fps in VP8, like Chromium's fake camera. */
export function createNetworkSender(options: NetworkSenderOptions = {}): NetworkSender {
  const settings: Required<NetworkSenderOptions> = {
    startBitrate: options.startBitrate ?? 2_500_000,
    minBitrate: options.minBitrate ?? 150_000,
    maxBitrate: options.maxBitrate ?? 2_500_000,
    adaptive: options.adaptive ?? true,
  };
  const webrtcbin = new WebRtcBin();
  webrtcbin.addTrack(
    'videotestsrc is-live=true pattern=smpte horizontal-speed=3 ! video/x-raw,width=640,height=480,framerate=30/1 ' +
      `! vp8enc name=${ENCODER} deadline=1 cpu-used=8 end-usage=cbr target-bitrate=${settings.startBitrate} ! tee name=encoded-split ` +
      `! queue ! rtpvp8pay pt=96 encoded-split. ! queue ! fakesink name=${ENCODED} sync=false async=false`,
  );
  const controller = settings.adaptive ? adaptBitrate(webrtcbin, ENCODER, settings) : null;
  return {
    webrtcbin,
    mode: controller === null ? 'fixed' : 'adaptive',
    close() {
      controller?.close();
      webrtcbin.close();
    },
  };
}
