export { Pipeline, type PipelineEvents, type PipelineState } from './core/pipeline.js';
export { type TrackInit, type TransceiverInit, WebRtcBin, type WebRtcBinEvents, type WebRtcBinOptions } from './core/webrtcbin.js';
export { DEFAULT_FEC_PERCENTAGE, type FecOptions } from './core/fec.js';
export { Element } from './core/element.js';
export { Track } from './core/track.js';
export { DEFAULT_KEYFRAME_REQUEST_INTERVAL, type KeyframeRequestCounts } from './core/keyframe-requests.js';
export { RtpTransceiver } from './core/transceiver.js';
export { DataChannel, type DataChannelEvents, type DataChannelInit, type DataChannelState } from './core/data-channel.js';
export { GstError, InvalidStateError, MissingDependencyError, OperationError, type GstErrorDetails } from './core/errors.js';
export { ERROR_DOMAIN, ErrorCode, hasErrorCode } from './core/error-codes.js';
export type { RtcStats, RtcStatsReport } from './core/stats.js';
export type { ListenerErrorEvent } from './core/safe-emitter.js';
export type * from './core/types.js';
export { PeerConnector, type PeerConnectorEvents, type PeerConnectorOptions } from './signalling/peer-connector.js';
export { gstreamerVersion } from './core/version.js';
export { warmUp } from './core/warm-up-connection.js';
export * from './signalling/index.js';
export {
  MediaFanOut,
  type AddViewerOptions,
  type H264VideoInput,
  type MediaFanOutEvents,
  type MediaFanOutOptions,
  type RawAudioInput,
  type RawVideoInput,
  type ViewerRemovedReason,
} from './media/fan-out.js';
export {
  DEFAULT_PROFILE_LEVEL_ID,
  H264_ENCODERS,
  H264_PARSER,
  H264_PAYLOAD_TYPE,
  h264EncoderFragment,
  h264Payloader,
  h264RtpCaps,
  parseProfileLevelId,
  profileLevelId,
  sameH264Profile,
  type H264EncoderOptions,
  type H264Profile,
  type ProfileLevelId,
} from './core/h264.js';
export { acceptsCodec, chooseCodec, codecKind, DEFAULT_PAYLOAD_TYPES, describeOffered, payloaderFor, sdpCodecs, type CodecCapability, type SdpCodec, type SendCodec } from './core/codecs.js';
export { DEFAULT_GOP_CACHE_BYTES, redactUrl, RtspBridge, RtspError, type GopCacheStats, type RtspBridgeEvents, type RtspBridgeOptions, type RtspBridgeState, type RtspTransport } from './media/rtsp-bridge.js';
export { WebRtcRecorder, type RecorderState, type RecordingResult, type RecordingStopReason, type WebRtcRecorderEvents, type WebRtcRecorderOptions } from './media/recorder.js';
export { ViewerSessions, type ViewerSessionsEvents, type ViewerSessionsOptions, type ViewerSource, type ViewerStatus } from './media/viewer-sessions.js';
export * from './http/index.js';
export { CongestionController, type CongestionControllerEvents, type CongestionControllerOptions } from './media/congestion/congestion-controller.js';
export type { BitrateChange, BitrateChangeReason } from './media/congestion/bandwidth-estimator.js';
export type { CongestionControlOptions } from './media/congestion/options.js';
export { RATE_CONTROLLED_ENCODERS, VP8_ADAPTIVE_SETTINGS } from './media/congestion/encoder-bitrate.js';
export { transportCcCaps } from './media/congestion/transport-cc-caps.js';
export type { ResolutionScaling } from './media/congestion/resolution-scaler.js';
export type { PacerCounts } from './media/congestion/pacer.js';
export { KeyframeLimiter, type KeyframeLimiterEvents } from './media/keyframe-limiter.js';
