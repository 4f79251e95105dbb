// W3C WebRTC shapes, as TypeScript users know them from RTCPeerConnection.

export type SdpType = 'offer' | 'answer' | 'pranswer' | 'rollback';

/** RTCSessionDescriptionInit. */
export interface SessionDescription {
  type: SdpType;
  sdp: string;
}

/** RTCSessionDescriptionInit: a rollback needs no sdp, and setLocalDescription() creates it when missing. */
export interface SessionDescriptionInit {
  type: SdpType;
  sdp?: string;
}

/** RTCIceCandidateInit. At least one of sdpMLineIndex and sdpMid is needed to add it. */
export interface IceCandidate {
  candidate: string;
  sdpMLineIndex?: number | null;
  sdpMid?: string | null;
  usernameFragment?: string | null;
}

/** RTCIceServer. Only `stun:`, `turn:` and `turns:` URLs are understood. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export type BundlePolicy = 'balanced' | 'max-compat' | 'max-bundle' | 'none';
export type IceTransportPolicy = 'all' | 'relay';
export type PeerConnectionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';
export type IceConnectionState = 'new' | 'checking' | 'connected' | 'completed' | 'failed' | 'disconnected' | 'closed';
export type IceGatheringState = 'new' | 'gathering' | 'complete';
export type SignalingState = 'stable' | 'have-local-offer' | 'have-remote-offer' | 'have-local-pranswer' | 'have-remote-pranswer' | 'closed';
export type TransceiverDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export type MediaKind = 'audio' | 'video';
