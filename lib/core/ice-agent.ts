// Settings of the libnice agent and sockets behind a webrtcbin: the pacing of
// connectivity checks, UPnP off, and the kernel buffers of its UDP sockets.
import { native, type NativeObject } from './native.js';

/**
 * Milliseconds between two connectivity checks when no TURN server is
 * configured: checks then go straight to the peer's own addresses, so a
 * loopback or LAN pair connects in a few milliseconds. See
 * WebRtcBinOptions.iceCheckInterval.
 */
export const DIRECT_ICE_CHECK_INTERVAL_MS = 1;

/**
 * Milliseconds between two connectivity checks with a TURN server: every check
 * through it is a request the server relays, and RFC 8445 (section 14) asks an
 * implementation not to start transactions more often than every 5 ms.
 */
export const RELAYED_ICE_CHECK_INTERVAL_MS = 5;

/**
 * Bytes of kernel send and receive buffer asked for on each ICE socket (Linux
 * doubles it, and caps it at net.core.rmem_max / wmem_max). The system default,
 * 208 KiB, overflows under a data channel's bursts while the receiving thread
 * waits for a core, and every datagram lost there costs GStreamer 1.22's SCTP a
 * 1 s retransmission timeout.
 */
export const ICE_SOCKET_BUFFER_BYTES = 2 * 1024 * 1024;

/** The check interval for a webrtcbin: what was asked for, else the default for its servers. */
export function iceCheckIntervalFor(asked: number | undefined, hasTurnServer: boolean): number {
  return asked ?? (hasTurnServer ? RELAYED_ICE_CHECK_INTERVAL_MS : DIRECT_ICE_CHECK_INTERVAL_MS);
}

/**
 * The agent's settings as property paths from the webrtcbin, for an element
 * made on a pipeline's native thread (values as text). UPnP off: libnice asks
 * the LAN's router for port mappings by default (SSDP multicast, an HTTP
 * server, extra threads), and a library must not talk to the network on its
 * own; host, STUN and TURN candidates are what WebRTC uses.
 */
export function iceAgentSettings(checkIntervalMs: number): [string, string][] {
  return [
    ['ice-agent.agent.upnp', 'false'],
    ['ice-agent.agent.stun-pacing-timer', String(checkIntervalMs)],
  ];
}

/** The same settings on an existing webrtcbin's agent. */
export function configureIceAgent(webrtcbin: NativeObject, checkIntervalMs: number): void {
  const iceAgent = webrtcbin.get('ice-agent') as NativeObject | null;
  const niceAgent = iceAgent?.propertyNames().includes('agent') ? (iceAgent.get('agent') as NativeObject | null) : null;
  if (niceAgent === null || niceAgent === undefined) return;
  const properties = niceAgent.propertyNames();
  if (properties.includes('upnp')) niceAgent.set('upnp', false);
  if (properties.includes('stun-pacing-timer')) niceAgent.set('stun-pacing-timer', checkIntervalMs);
}

/** Larger kernel buffers for the webrtcbin's ICE sockets, applied natively as they are made (native/ice_socket_buffers.cc). */
export function sizeIceSockets(webrtcbin: NativeObject): void {
  native.iceSocketBuffers(webrtcbin, ICE_SOCKET_BUFFER_BYTES);
}
