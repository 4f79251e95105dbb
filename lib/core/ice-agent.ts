// Settings of the libnice agent and sockets behind a webrtcbin: the pacing of
// connectivity checks, TCP candidates, UPnP off, and the kernel buffers of its
// UDP sockets.
import { native, type NativeObject } from './native.js';

/**
 * Milliseconds between two connectivity checks when no TURN server is
 * configured: checks then go straight to the peer's own addresses, a few dozen
 * at most, so a loopback or LAN pair connects in a few milliseconds. 1 ms made
 * about one connection in 150 hang until the ICE state race was fixed
 * (native/ice_state_sync.cc); since then none in 1,000 at 25 at a time. See
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

/** What a webrtcbin's ICE agent is set to. */
export interface IceAgentConfig {
  /** Milliseconds between connectivity checks. */
  checkIntervalMs: number;
  /** Whether TCP host candidates are gathered and the peer's TCP candidates used (ICE-TCP). */
  tcp: boolean;
}

/**
 * The agent's settings from a WebRtcBin's options: what was asked for, else a
 * check interval for its servers, and no ICE-TCP. Each candidate is an event to
 * JS and an operation on the far side, queued before its answer: with TCP
 * candidates (three per address) a loopback connection took 45 to 50 ms instead
 * of 29 to 30 (docs/benchmarks.md, figure 2). TURN over TCP or TLS needs no ICE-TCP.
 */
export function iceAgentConfig(options: { iceCheckInterval?: number; iceTcp?: boolean }, hasTurnServer: boolean): IceAgentConfig {
  return {
    checkIntervalMs: options.iceCheckInterval ?? (hasTurnServer ? RELAYED_ICE_CHECK_INTERVAL_MS : DIRECT_ICE_CHECK_INTERVAL_MS),
    tcp: options.iceTcp ?? false,
  };
}

/**
 * The agent's settings as property paths from the webrtcbin, for an element
 * made on a pipeline's native thread (values as text). UPnP off: libnice asks
 * the LAN's router for port mappings by default (SSDP multicast, an HTTP
 * server, extra threads), and a library must not talk to the network on its
 * own; host, STUN and TURN candidates are what WebRTC uses.
 */
export function iceAgentSettings(config: IceAgentConfig): [string, string][] {
  return [
    ['ice-agent.ice-tcp', String(config.tcp)],
    ['ice-agent.agent.upnp', 'false'],
    ['ice-agent.agent.stun-pacing-timer', String(config.checkIntervalMs)],
  ];
}

/** The same settings on an existing webrtcbin's agent. */
export function configureIceAgent(webrtcbin: NativeObject, config: IceAgentConfig): void {
  const iceAgent = webrtcbin.get('ice-agent') as NativeObject | null;
  if (iceAgent?.propertyNames().includes('ice-tcp')) iceAgent.set('ice-tcp', config.tcp);
  const niceAgent = iceAgent?.propertyNames().includes('agent') ? (iceAgent.get('agent') as NativeObject | null) : null;
  if (niceAgent === null || niceAgent === undefined) return;
  const properties = niceAgent.propertyNames();
  if (properties.includes('upnp')) niceAgent.set('upnp', false);
  if (properties.includes('stun-pacing-timer')) niceAgent.set('stun-pacing-timer', config.checkIntervalMs);
}

/**
 * Natively, on each of the webrtcbin's ICE transports as it is made (native/ice_transports.cc): larger kernel
 * buffers for its sockets, and its state kept in step with libnice's, which GStreamer can leave at `checking`
 * for good when a peer connects fast (native/ice_state_sync.cc).
 */
export function prepareIceTransports(webrtcbin: NativeObject): void {
  native.prepareIceTransports(webrtcbin, ICE_SOCKET_BUFFER_BYTES);
}
