// The WebRtcBin that sends in the sending figure (issue 13), and the hook where
// an adaptive bitrate joins it.
//
// The congestion controller (lib/media/congestion, written alongside this
// bench) is looked up at run time among the library's exports: where the
// library has `CongestionController` and `transportCcCaps`, the sender puts
// the transport-cc caps after its payloader and a controller on its encoder,
// and the figure's rows say `adaptive`; where it has not, the encoder keeps
// its start bitrate and the rows say `fixed`. `adaptBitrate` is the one place
// to change if that API changes.
import * as library from '../../lib/index.js';
import { type Element, WebRtcBin } from '../../lib/index.js';

/** How the sending WebRtcBin encodes; passed down from the figure. */
export interface NetworkSenderOptions {
  /**
   * Encoder bitrate at the start, bit/s. Default: the controller's own default
   * start (1 Mbit/s) when adaptive, as Chromium starts at libwebrtc's own
   * (300 kbit/s); 2.5 Mbit/s when fixed.
   */
  startBitrate?: number;
  /** Lower and upper bounds for an adaptive controller, bit/s. */
  minBitrate?: number;
  maxBitrate?: number;
  /** Whether to try the adaptive controller (default true: it is used when one exists). */
  adaptive?: boolean;
}

/** The fixed encoder's bitrate, and the adaptive one's start (CongestionController's default). */
const FIXED_BITRATE = 2_500_000;
const ADAPTIVE_START_BITRATE = 1_000_000;

/** The element name of the sender's encoder. */
export const ENCODER = 'encoder';
/** The capsfilter that sets the picture size the encoder gets (the controller halves it under a low target). */
const SIZE = 'size';
const WIDTH = 640;
const HEIGHT = 480;
const FRAMERATE = 30;
/** A sink beside the payloader that counts the frames encoded (a CPU-starved encoder makes fewer than 30 a second). */
export const ENCODED = 'encoded';

export interface NetworkSender {
  webrtcbin: WebRtcBin;
  /** 'adaptive' when a controller drives the encoder, else 'fixed'. */
  mode: 'adaptive' | 'fixed';
  close(): void;
}

/** The part of the congestion controller's API this bench uses. */
interface CongestionApi {
  CongestionController: new (
    webrtcbin: WebRtcBin,
    options: {
      encoder: Element;
      minBitrate: number;
      maxBitrate: number;
      startBitrate: number;
      resolution?: { capsfilter: Element; width: number; height: number; framerate: number };
    },
  ) => { close(): void };
  /** A pipeline fragment for after the payloader, ` ! capsfilter ...`: the transport-cc header extension. */
  transportCcCaps(): string;
  /** vp8enc settings for a bitrate that follows the link. */
  VP8_ADAPTIVE_SETTINGS: string;
}

/** The controller's API when this build of the library has it, else null. */
function congestionApi(): CongestionApi | null {
  const api = library as unknown as Partial<CongestionApi>;
  return typeof api.CongestionController === 'function' && typeof api.transportCcCaps === 'function' && typeof api.VP8_ADAPTIVE_SETTINGS === 'string' ? (api as CongestionApi) : null;
}

/**
 * The adaptive-bitrate hook: attaches a controller to the encoder and returns
 * it, or null when there is none (then the bitrate stays fixed).
 */
export function adaptBitrate(api: CongestionApi | null, webrtcbin: WebRtcBin, encoder: string, options: Required<NetworkSenderOptions>): { close(): void } | null {
  const element = webrtcbin.pipeline.getElement(encoder);
  if (api === null || element === null) return null;
  const { minBitrate, maxBitrate, startBitrate } = options;
  const capsfilter = webrtcbin.pipeline.getElement(SIZE);
  const resolution = capsfilter === null ? undefined : { capsfilter, width: WIDTH, height: HEIGHT, framerate: FRAMERATE };
  return new api.CongestionController(webrtcbin, { encoder: element, minBitrate, maxBitrate, startBitrate, resolution });
}

/** A WebRtcBin sending a moving 640x480 test picture at 30 fps in VP8, like Chromium's fake camera. */
export function createNetworkSender(options: NetworkSenderOptions = {}): NetworkSender {
  const adaptive = options.adaptive ?? true;
  const api = adaptive ? congestionApi() : null;
  const settings: Required<NetworkSenderOptions> = {
    startBitrate: options.startBitrate ?? (api === null ? FIXED_BITRATE : ADAPTIVE_START_BITRATE),
    minBitrate: options.minBitrate ?? 150_000,
    maxBitrate: options.maxBitrate ?? 2_500_000,
    adaptive,
  };
  const webrtcbin = new WebRtcBin();
  webrtcbin.addTrack(
    `videotestsrc is-live=true pattern=smpte horizontal-speed=3 ! video/x-raw,width=${WIDTH},height=${HEIGHT},framerate=${FRAMERATE}/1 ` +
      `! videoscale ! capsfilter name=${SIZE} caps=video/x-raw,width=${WIDTH},height=${HEIGHT} ! vp8enc name=${ENCODER} deadline=1 cpu-used=8 end-usage=cbr target-bitrate=${settings.startBitrate}${api === null ? '' : ` ${api.VP8_ADAPTIVE_SETTINGS}`} ! tee name=encoded-split ` +
      `! queue ! rtpvp8pay pt=96${api?.transportCcCaps() ?? ''} encoded-split. ! queue ! fakesink name=${ENCODED} sync=false async=false`,
  );
  const controller = adaptBitrate(api, webrtcbin, ENCODER, settings);
  return {
    webrtcbin,
    mode: controller === null ? 'fixed' : 'adaptive',
    close() {
      controller?.close();
      webrtcbin.close();
    },
  };
}
