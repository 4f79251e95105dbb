// WHIP (RFC 9725) and WHEP, as client and as server.
export { HttpSessionError, WhepError, WhipError, type HttpSessionErrorKind } from './errors.js';
export { iceServersFromLinkHeaders, iceServersToLinkHeaders } from './link-header.js';
export { buildTrickleFragment, parseTrickleFragment, TRICKLE_ICE_SDPFRAG, type FragmentMedia, type TrickleFragment } from './trickle-fragment.js';
export type { HttpSessionClient, HttpSessionClientEvents, HttpSessionClientOptions } from './session-client.js';
export { WhipClient, type WhipClientEvents, type WhipClientOptions } from './whip-client.js';
export { WhepClient, type WhepClientEvents, type WhepClientOptions, type WhepPlayOptions } from './whep-client.js';
export { HttpSession, type HttpSessionEndReason, type HttpSessionEvents } from './http-session.js';
export type { HttpSessionServer, HttpSessionServerEvents, HttpSessionServerOptions } from './session-server.js';
export { WhipServer, type WhipServerEvents, type WhipServerOptions } from './whip-server.js';
export { WhepServer, type WhepServerEvents, type WhepServerOptions } from './whep-server.js';
