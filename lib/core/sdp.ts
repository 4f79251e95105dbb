// Just enough SDP reading to check input and to map m-lines to mids.
import { OperationError } from './errors.js';
import type { IceCandidate, SessionDescription } from './types.js';

const SDP_TYPES = new Set(['offer', 'answer', 'pranswer', 'rollback']);

/** Throws TypeError unless `description` is a well-formed RTCSessionDescriptionInit. */
export function checkDescription(description: unknown): SessionDescription {
  if (typeof description !== 'object' || description === null) throw new TypeError('a session description must be an object { type, sdp }');
  const { type, sdp } = description as Record<string, unknown>;
  if (typeof type !== 'string' || !SDP_TYPES.has(type)) throw new TypeError(`session description type must be 'offer', 'answer', 'pranswer' or 'rollback', not ${JSON.stringify(type)}`);
  if (typeof sdp !== 'string') throw new TypeError('session description sdp must be a string');
  if (type !== 'rollback') checkSdpText(sdp);
  return { type: type as SessionDescription['type'], sdp };
}

function checkSdpText(sdp: string): void {
  const lines = sdp.split(/\r?\n/).filter((line) => line !== '');
  if (lines[0] !== 'v=0') throw new TypeError('not an SDP: the first line must be v=0');
  const malformed = lines.find((line) => !/^[a-z]=/.test(line));
  if (malformed !== undefined) throw new TypeError(`malformed SDP line: ${JSON.stringify(malformed.slice(0, 80))}`);
  for (const required of ['o=', 's=', 't=']) {
    if (!lines.some((line) => line.startsWith(required))) throw new TypeError(`malformed SDP: no ${required} line`);
  }
  for (const media of lines.filter((line) => line.startsWith('m='))) {
    if (!/^m=(audio|video|application|text|message) \d+(\/\d+)? \S+( \S+)+$/.test(media)) throw new TypeError(`malformed SDP media line: ${JSON.stringify(media)}`);
  }
}

/** The mid of each m-line, in order (null where there is no a=mid). */
export function mediaMids(sdp: string): (string | null)[] {
  const sections = sdp.split(/\r?\nm=/).slice(1);
  return sections.map((section) => /\r?\na=mid:(\S+)/.exec(section)?.[1] ?? null);
}

const CANDIDATE = /^(a=)?candidate:\S+ \d+ (udp|tcp) \d+ \S+ \d+ typ (host|srflx|prflx|relay)( .*)?$/i;

/**
 * Checks a candidate against the remote description's m-lines (their `mids`)
 * and finds its m-line. Throws TypeError for a malformed candidate,
 * OperationError for an m-line or mid the remote description does not have.
 */
export function candidateMLine(candidate: IceCandidate, mids: (string | null)[]): number {
  if (typeof candidate.candidate !== 'string') throw new TypeError('candidate.candidate must be a string');
  if (!CANDIDATE.test(candidate.candidate.trim())) throw new TypeError(`malformed ICE candidate: ${JSON.stringify(candidate.candidate.slice(0, 120))}`);
  const { sdpMLineIndex, sdpMid } = candidate;
  if (sdpMLineIndex !== undefined && sdpMLineIndex !== null) {
    if (!Number.isInteger(sdpMLineIndex) || sdpMLineIndex < 0) throw new TypeError('sdpMLineIndex must be a non-negative integer');
    if (sdpMLineIndex >= mids.length) throw new OperationError(`sdpMLineIndex ${sdpMLineIndex} does not exist: the remote description has ${mids.length} m-line(s)`);
    return sdpMLineIndex;
  }
  if (typeof sdpMid === 'string') {
    const index = mids.indexOf(sdpMid);
    if (index < 0) throw new OperationError(`sdpMid ${JSON.stringify(sdpMid)} is not in the remote description`);
    return index;
  }
  throw new TypeError('a candidate needs sdpMLineIndex or sdpMid');
}

/** Whether a candidate's address is an mDNS name (`<uuid>.local`), as browsers send by default. */
export function isMdnsCandidate(candidate: string): boolean {
  const address = candidate.replace(/^(a=)?candidate:/i, '').split(/\s+/)[4];
  return address !== undefined && /\.local\.?$/i.test(address);
}
