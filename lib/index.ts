export { Pipeline, type PipelineEvents, type PipelineState } from './pipeline.js';
export { WebRtcBin, type WebRtcBinEvents, type WebRtcBinOptions } from './webrtcbin.js';
export { Element } from './element.js';
export { Track } from './track.js';
export { RtpTransceiver } from './transceiver.js';
export { DataChannel, type DataChannelEvents, type DataChannelInit, type DataChannelState } from './data-channel.js';
export { GstError, InvalidStateError, MissingDependencyError, OperationError, type GstErrorDetails } from './errors.js';
export type { RtcStats, RtcStatsReport } from './stats.js';
export type { ListenerErrorEvent } from './safe-emitter.js';
export type * from './types.js';
export { PeerConnector, type PeerConnectorEvents, type PeerConnectorOptions } from './peer-connector.js';
export { gstreamerVersion } from './version.js';
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
} from './fan-out.js';
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
} from './h264.js';
export { acceptsCodec, chooseCodec, codecKind, DEFAULT_PAYLOAD_TYPES, describeOffered, payloaderFor, sdpCodecs, type CodecCapability, type SdpCodec, type SendCodec } from './codecs.js';
export { redactUrl, RtspBridge, RtspError, type RtspBridgeEvents, type RtspBridgeOptions, type RtspBridgeState, type RtspTransport } from './rtsp-bridge.js';
export { WebRtcRecorder, type RecorderState, type RecordingResult, type RecordingStopReason, type WebRtcRecorderEvents, type WebRtcRecorderOptions } from './recorder.js';
export { ViewerSessions, type ViewerSessionsEvents, type ViewerSessionsOptions, type ViewerSource, type ViewerStatus } from './viewer-sessions.js';
