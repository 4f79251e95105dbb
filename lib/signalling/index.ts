export { SignallingServer } from './server.js';
export type {
  ListeningAddress,
  PeerJoinedEvent,
  PeerLeftEvent,
  PeerLeftReason,
  PeerProtocol,
  SessionEndedEvent,
  SessionEvent,
  SignallingServerEvents,
  SignallingServerOptions,
} from './server.js';
export { SignallingClient, SignallingError } from './client.js';
export type {
  ClientSessionEndReason,
  SessionInfo,
  SignallingClientConnectOptions,
  SignallingClientErrorCode,
  SignallingClientEvents,
} from './client.js';
export {
  ERROR_CODES,
  PROTOCOL_VERSION,
  parseClientMessage,
  parseServerMessage,
  parseSessionPayload,
} from './protocol.js';
export type {
  ClientMessage,
  ClientMessageType,
  ErrorCode,
  ErrorMessage,
  IceCandidate,
  ParseResult,
  PeerInfo,
  PeerMeta,
  ProtocolError,
  RateLimit,
  RequestId,
  SdpType,
  ServerLimits,
  ServerMessage,
  ServerMessageType,
  SessionDescription,
  SessionEndReason,
  SessionPayload,
} from './protocol.js';
export { PeerSession } from './peer-session.js';
export type { PeerSessionEndReason, PeerSessionEvents, PeerSessionOptions } from './peer-session.js';
