// RTCPeerConnection.iceConnectionState from webrtcbin's and the data channels' ICE transports.
import type { IceConnectionState } from './types.js';

/**
 * The connection's ICE state as W3C defines it over all its ICE transports
 * (webrtc-pc, RTCIceConnectionState), from webrtcbin's own state, which covers
 * the transceivers' transports only, and the state of the data channels' ICE
 * transport (null without one). webrtcbin 1.22 reports `new` when no
 * transceiver has a transport yet, so that state is taken as "no transport"
 * beside a data channel transport: a connection with data channels alone is
 * then exactly its transport's state. Under BUNDLE both are one transport.
 */
export function collateIceConnectionState(transceivers: IceConnectionState, dataChannels: IceConnectionState | null): IceConnectionState {
  if (dataChannels === null) return transceivers;
  if (transceivers === 'new' || transceivers === 'closed') return dataChannels;
  const states = [transceivers, dataChannels];
  if (states.includes('failed')) return 'failed';
  if (states.includes('disconnected')) return 'disconnected';
  if (states.every((state) => state === 'new' || state === 'closed')) return 'new';
  if (states.some((state) => state === 'new' || state === 'checking')) return 'checking';
  if (states.every((state) => state === 'completed' || state === 'closed')) return 'completed';
  return 'connected';
}
