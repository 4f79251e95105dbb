// JSON signalling protocol: message types shared by server and client, and the
// validating parsers both sides use on untrusted input. See docs/signalling-protocol.md.
// Accepts text, bytes (UTF-8) or already parsed JSON.

export const PROTOCOL_VERSION = 1;

/** Longest accepted peer id, session id, role, name or room. */
export const MAX_ID_LENGTH = 128;
/** Longest accepted `meta` object once serialized to JSON. */
export const MAX_META_BYTES = 1024;
const MAX_REQUEST_ID_LENGTH = 64;

/** Echoed back unchanged in the reply so a client can match replies to requests. */
export type RequestId = string | number;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** Free-form, small, public information a peer publishes about itself. */
export type PeerMeta = { [key: string]: JsonValue };

import type { IceCandidate, SdpType, SessionDescription } from '../core/types.js';

export type { IceCandidate, SdpType, SessionDescription };

/** What peers exchange inside a session; `candidate: null` marks the end of candidates. */
export type SessionPayload =
  | { type: 'sdp'; sdp: SessionDescription }
  | { type: 'ice'; candidate: IceCandidate | null };

export interface PeerInfo {
  peerId: string;
  role?: string;
  name?: string;
  meta?: PeerMeta;
}

// ---- client -> server ----

export interface HelloRequest {
  type: 'hello';
  requestId?: RequestId;
  role?: string;
  name?: string;
  room?: string;
  meta?: PeerMeta;
}
export interface ListRequest {
  type: 'list';
  requestId?: RequestId;
}
export interface SessionStartRequest {
  type: 'session-start';
  requestId?: RequestId;
  peerId: string;
}
export interface SessionMessageRequest {
  type: 'session-message';
  requestId?: RequestId;
  sessionId: string;
  payload: SessionPayload;
}
export interface SessionEndRequest {
  type: 'session-end';
  requestId?: RequestId;
  sessionId: string;
}

export type ClientMessage =
  | HelloRequest
  | ListRequest
  | SessionStartRequest
  | SessionMessageRequest
  | SessionEndRequest;
export type ClientMessageType = ClientMessage['type'];

// ---- server -> client ----

export interface ServerLimits {
  maxMessageBytes: number;
  rateLimit: RateLimit | null;
  maxSessionsPerPeer: number;
  heartbeatMs: number;
}
export interface RateLimit {
  messages: number;
  perSeconds: number;
}

export interface WelcomeMessage {
  type: 'welcome';
  requestId?: RequestId;
  protocolVersion: number;
  peerId: string;
  room: string;
  role?: string;
  name?: string;
  limits: ServerLimits;
}
export interface PeersMessage {
  type: 'peers';
  requestId?: RequestId;
  peers: PeerInfo[];
}
export interface PeerJoinedMessage {
  type: 'peer-joined';
  peer: PeerInfo;
}
export interface PeerLeftMessage {
  type: 'peer-left';
  peerId: string;
}
export interface SessionStartedMessage {
  type: 'session-started';
  requestId?: RequestId;
  sessionId: string;
  /** The other member of the session. */
  peerId: string;
  initiator: boolean;
}
export interface SessionRelayMessage {
  type: 'session-message';
  sessionId: string;
  /** Set by the server to the sending peer's id. */
  from: string;
  payload: SessionPayload;
}
/** `ended`: a member sent session-end; `peer-left`: a member disconnected. */
export type SessionEndReason = 'ended' | 'peer-left';
export interface SessionEndedMessage {
  type: 'session-ended';
  requestId?: RequestId;
  sessionId: string;
  reason: SessionEndReason;
  /** The peer that ended the session or left. */
  by: string;
}

export const ERROR_CODES = [
  'bad-json',
  'invalid-message',
  'unknown-type',
  'unsupported-binary',
  'already-registered',
  'unknown-peer',
  'invalid-peer',
  'too-many-sessions',
  'unknown-session',
  'rate-limited',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
  requestType?: string;
  requestId?: RequestId;
}

export type ServerMessage =
  | WelcomeMessage
  | PeersMessage
  | PeerJoinedMessage
  | PeerLeftMessage
  | SessionStartedMessage
  | SessionRelayMessage
  | SessionEndedMessage
  | ErrorMessage;
export type ServerMessageType = ServerMessage['type'];

/** A rejected message, ready to be sent back as an ErrorMessage. */
export interface ProtocolError {
  code: ErrorCode;
  message: string;
  requestType?: string;
  requestId?: RequestId;
}

export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: ProtocolError };

// ---- validation helpers ----

type Fields = Record<string, unknown>;

// No Buffer here, so this module also works in a browser.
const utf8 = new TextEncoder();

class Invalid extends Error {}

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(obj: Fields, key: string, maxLength = MAX_ID_LENGTH): string {
  const value = obj[key];
  if (typeof value !== 'string') throw new Invalid(`"${key}" must be a string`);
  if (value.length === 0 || value.length > maxLength) {
    throw new Invalid(`"${key}" must be 1 to ${maxLength} characters`);
  }
  return value;
}

function optionalString(obj: Fields, key: string, maxLength = MAX_ID_LENGTH): string | undefined {
  return obj[key] === undefined ? undefined : requireString(obj, key, maxLength);
}

function optionalMeta(obj: Fields): PeerMeta | undefined {
  const meta = obj.meta;
  if (meta === undefined) return undefined;
  if (!isRecord(meta)) throw new Invalid('"meta" must be an object');
  let serialized: string;
  try {
    serialized = JSON.stringify(meta);
  } catch {
    throw new Invalid('"meta" must be JSON-serializable');
  }
  if (utf8.encode(serialized).length > MAX_META_BYTES) {
    throw new Invalid(`"meta" must serialize to at most ${MAX_META_BYTES} bytes`);
  }
  // It came out of JSON.parse, so it only holds JSON values.
  return meta as PeerMeta;
}

function readRequestId(obj: Fields): RequestId | undefined {
  const id = obj.requestId;
  if (typeof id === 'string' && id.length <= MAX_REQUEST_ID_LENGTH) return id;
  if (typeof id === 'number' && Number.isFinite(id)) return id;
  return undefined;
}

/** Like optionalString but treats null as absent (browsers send `sdpMid: null`). */
function nullableString(obj: Fields, key: string, maxLength: number): string | undefined {
  return obj[key] === null ? undefined : optionalString(obj, key, maxLength);
}

const SDP_TYPES: readonly string[] = ['offer', 'answer', 'pranswer', 'rollback'];

function parseSessionDescription(value: unknown): SessionDescription {
  if (!isRecord(value)) throw new Invalid('"sdp" must be an object');
  if (typeof value.type !== 'string' || !SDP_TYPES.includes(value.type)) {
    throw new Invalid('"sdp.type" must be one of offer, answer, pranswer, rollback');
  }
  if (typeof value.sdp !== 'string') throw new Invalid('"sdp.sdp" must be a string');
  return { type: value.type as SdpType, sdp: value.sdp };
}

function parseIceCandidate(value: unknown): IceCandidate | null {
  if (value === null) return null;
  if (!isRecord(value)) throw new Invalid('"candidate" must be an object or null');
  if (typeof value.candidate !== 'string') throw new Invalid('"candidate.candidate" must be a string');
  const candidate: IceCandidate = { candidate: value.candidate };
  const index = value.sdpMLineIndex;
  if (index !== undefined && index !== null) {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 65535) {
      throw new Invalid('"candidate.sdpMLineIndex" must be an integer from 0 to 65535');
    }
    candidate.sdpMLineIndex = index;
  }
  const mid = nullableString(value, 'sdpMid', 256);
  if (mid !== undefined) candidate.sdpMid = mid;
  const ufrag = nullableString(value, 'usernameFragment', 256);
  if (ufrag !== undefined) candidate.usernameFragment = ufrag;
  return candidate;
}

/** Rebuilds the payload from known fields only, so nothing unvalidated is ever relayed. */
export function parseSessionPayload(value: unknown): SessionPayload {
  if (!isRecord(value)) throw new Invalid('"payload" must be an object');
  if (value.type === 'sdp') return { type: 'sdp', sdp: parseSessionDescription(value.sdp) };
  if (value.type === 'ice') {
    if (!('candidate' in value)) throw new Invalid('"payload.candidate" is required (use null for end of candidates)');
    return { type: 'ice', candidate: parseIceCandidate(value.candidate) };
  }
  throw new Invalid('"payload.type" must be "sdp" or "ice"');
}

function parsePeerInfo(value: unknown): PeerInfo {
  if (!isRecord(value)) throw new Invalid('peer must be an object');
  const peer: PeerInfo = { peerId: requireString(value, 'peerId') };
  const role = optionalString(value, 'role');
  if (role !== undefined) peer.role = role;
  const name = optionalString(value, 'name');
  if (name !== undefined) peer.name = name;
  const meta = optionalMeta(value);
  if (meta !== undefined) peer.meta = meta;
  return peer;
}

function withRequestId<T extends object>(message: T, requestId: RequestId | undefined): T & { requestId?: RequestId } {
  return requestId === undefined ? message : { ...message, requestId };
}

function decodeJson(data: unknown): { ok: true; value: unknown } | { ok: false; error: ProtocolError } {
  let text: string;
  if (typeof data === 'string') text = data;
  else if (data instanceof Uint8Array) text = new TextDecoder().decode(data);
  else return { ok: true, value: data };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, error: { code: 'bad-json', message: 'message is not valid JSON' } };
  }
}

function describeType(obj: Fields): string | undefined {
  return typeof obj.type === 'string' ? obj.type.slice(0, 64) : undefined;
}

function buildClientMessage(obj: Fields, requestId: RequestId | undefined): ClientMessage | undefined {
  switch (obj.type) {
    case 'hello': {
      const hello: HelloRequest = { type: 'hello' };
      const role = optionalString(obj, 'role');
      const name = optionalString(obj, 'name');
      const room = optionalString(obj, 'room');
      const meta = optionalMeta(obj);
      if (role !== undefined) hello.role = role;
      if (name !== undefined) hello.name = name;
      if (room !== undefined) hello.room = room;
      if (meta !== undefined) hello.meta = meta;
      return withRequestId(hello, requestId);
    }
    case 'list':
      return withRequestId({ type: 'list' as const }, requestId);
    case 'session-start':
      return withRequestId({ type: 'session-start' as const, peerId: requireString(obj, 'peerId') }, requestId);
    case 'session-message':
      return withRequestId(
        {
          type: 'session-message' as const,
          sessionId: requireString(obj, 'sessionId'),
          payload: parseSessionPayload(obj.payload),
        },
        requestId,
      );
    case 'session-end':
      return withRequestId({ type: 'session-end' as const, sessionId: requireString(obj, 'sessionId') }, requestId);
    default:
      return undefined;
  }
}

/**
 * Validates a message received from a client. Accepts the raw text (or UTF-8 bytes)
 * or an already parsed JSON value. Unknown fields are dropped.
 */
export function parseClientMessage(data: unknown): ParseResult<ClientMessage> {
  const decoded = decodeJson(data);
  if (!decoded.ok) return decoded;
  const obj = decoded.value;
  if (!isRecord(obj)) return { ok: false, error: { code: 'invalid-message', message: 'message must be a JSON object' } };
  const requestId = readRequestId(obj);
  const requestType = describeType(obj);
  const fail = (code: ErrorCode, message: string): ParseResult<ClientMessage> => ({
    ok: false,
    error: withRequestId(requestType === undefined ? { code, message } : { code, message, requestType }, requestId),
  });
  if (requestType === undefined) return fail('invalid-message', '"type" must be a string');
  try {
    const message = buildClientMessage(obj, requestId);
    return message ? { ok: true, message } : fail('unknown-type', `unknown message type "${requestType}"`);
  } catch (err) {
    if (err instanceof Invalid) return fail('invalid-message', err.message);
    throw err;
  }
}

function parseLimits(value: unknown): ServerLimits {
  if (!isRecord(value)) throw new Invalid('"limits" must be an object');
  const numberField = (key: string): number => {
    const n = value[key];
    if (typeof n !== 'number') throw new Invalid(`"limits.${key}" must be a number`);
    return n;
  };
  let rateLimit: RateLimit | null = null;
  if (value.rateLimit !== null) {
    if (!isRecord(value.rateLimit)) throw new Invalid('"limits.rateLimit" must be an object or null');
    const { messages, perSeconds } = value.rateLimit;
    if (typeof messages !== 'number' || typeof perSeconds !== 'number') throw new Invalid('bad "limits.rateLimit"');
    rateLimit = { messages, perSeconds };
  }
  return {
    maxMessageBytes: numberField('maxMessageBytes'),
    rateLimit,
    maxSessionsPerPeer: numberField('maxSessionsPerPeer'),
    heartbeatMs: numberField('heartbeatMs'),
  };
}

function requireBoolean(obj: Fields, key: string): boolean {
  if (typeof obj[key] !== 'boolean') throw new Invalid(`"${key}" must be a boolean`);
  return obj[key] as boolean;
}

const SESSION_END_REASONS: readonly string[] = ['ended', 'peer-left'];
const ERROR_CODE_LIST: readonly string[] = ERROR_CODES;

function buildServerMessage(obj: Fields, requestId: RequestId | undefined): ServerMessage | undefined {
  switch (obj.type) {
    case 'welcome': {
      const welcome: WelcomeMessage = {
        type: 'welcome',
        protocolVersion: typeof obj.protocolVersion === 'number' ? obj.protocolVersion : 0,
        peerId: requireString(obj, 'peerId'),
        room: typeof obj.room === 'string' ? obj.room : '',
        limits: parseLimits(obj.limits),
      };
      const role = optionalString(obj, 'role');
      const name = optionalString(obj, 'name');
      if (role !== undefined) welcome.role = role;
      if (name !== undefined) welcome.name = name;
      return withRequestId(welcome, requestId);
    }
    case 'peers':
      if (!Array.isArray(obj.peers)) throw new Invalid('"peers" must be an array');
      return withRequestId({ type: 'peers' as const, peers: obj.peers.map(parsePeerInfo) }, requestId);
    case 'peer-joined':
      return { type: 'peer-joined', peer: parsePeerInfo(obj.peer) };
    case 'peer-left':
      return { type: 'peer-left', peerId: requireString(obj, 'peerId') };
    case 'session-started':
      return withRequestId(
        {
          type: 'session-started' as const,
          sessionId: requireString(obj, 'sessionId'),
          peerId: requireString(obj, 'peerId'),
          initiator: requireBoolean(obj, 'initiator'),
        },
        requestId,
      );
    case 'session-message':
      return {
        type: 'session-message',
        sessionId: requireString(obj, 'sessionId'),
        from: requireString(obj, 'from'),
        payload: parseSessionPayload(obj.payload),
      };
    case 'session-ended': {
      const reason = obj.reason;
      if (typeof reason !== 'string' || !SESSION_END_REASONS.includes(reason)) throw new Invalid('bad "reason"');
      return withRequestId(
        {
          type: 'session-ended' as const,
          sessionId: requireString(obj, 'sessionId'),
          reason: reason as SessionEndReason,
          by: requireString(obj, 'by'),
        },
        requestId,
      );
    }
    case 'error': {
      const code = obj.code;
      if (typeof code !== 'string' || !ERROR_CODE_LIST.includes(code)) throw new Invalid('bad "code"');
      const error: ErrorMessage = {
        type: 'error',
        code: code as ErrorCode,
        message: typeof obj.message === 'string' ? obj.message : '',
      };
      const requestType = optionalString(obj, 'requestType');
      if (requestType !== undefined) error.requestType = requestType;
      return withRequestId(error, requestId);
    }
    default:
      return undefined;
  }
}

/** Validates a message received from the server (used by SignallingClient). */
export function parseServerMessage(data: unknown): ParseResult<ServerMessage> {
  const decoded = decodeJson(data);
  if (!decoded.ok) return decoded;
  const obj = decoded.value;
  if (!isRecord(obj)) return { ok: false, error: { code: 'invalid-message', message: 'message must be a JSON object' } };
  try {
    const message = buildServerMessage(obj, readRequestId(obj));
    if (message) return { ok: true, message };
    return { ok: false, error: { code: 'unknown-type', message: `unknown message type "${describeType(obj)}"` } };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, error: { code: 'invalid-message', message: err.message } };
    throw err;
  }
}
