// The one SDP reader of the library: sdp-transform parses, and these helpers
// answer the few questions the rest of lib/ asks of a description.
import { parse, type MediaDescription, type SessionDescription as ParsedSdp } from 'sdp-transform';

import { OperationError } from './errors.js';
import type { IceCandidate, SessionDescription } from './types.js';

export type { MediaDescription, ParsedSdp };

const SDP_TYPES = new Set(['offer', 'answer', 'pranswer', 'rollback']);

/**
 * Throws TypeError unless `description` is a well-formed RTCSessionDescriptionInit.
 * A rollback needs no SDP; an offer or answer without `sdp` is allowed only where
 * `sdpOptional` (setLocalDescription creates it).
 */
export function checkDescription(description: unknown, sdpOptional = false): { type: SessionDescription['type']; sdp: string | undefined } {
  if (typeof description !== 'object' || description === null) throw new TypeError('a session description must be an object { type, sdp }');
  const { type, sdp } = description as Record<string, unknown>;
  if (typeof type !== 'string' || !SDP_TYPES.has(type)) throw new TypeError(`session description type must be 'offer', 'answer', 'pranswer' or 'rollback', not ${JSON.stringify(type)}`);
  if (type === 'rollback') return { type, sdp: undefined };
  if (sdp === undefined || sdp === '') {
    if (sdpOptional) return { type: type as SessionDescription['type'], sdp: undefined };
    throw new TypeError(`a remote ${type} needs its sdp`);
  }
  if (typeof sdp !== 'string') throw new TypeError('session description sdp must be a string');
  checkSdpText(sdp);
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

/** Parses SDP text (sdp-transform). */
export function parseSdp(sdp: string): ParsedSdp {
  return parse(sdp);
}

/**
 * A description read once: sdp-transform's parse, and beside it the attribute
 * lines of the session level and of each m-section as written. sdp-transform
 * keeps only the last of a repeated single-value attribute (a=mid, a=ice-pwd, a
 * direction), and the guards against webrtcbin's assertions must count those
 * repeats, so they read the lines; everything else comes from `parsed`.
 */
export interface SdpReading {
  parsed: ParsedSdp;
  /** The session level's attribute lines, without `a=`. */
  sessionAttributes: string[];
  /** Each m-section's attribute lines, without `a=`, in m-line order (as `parsed.media`). */
  mediaAttributes: string[][];
}

/** Reads SDP text once for the questions of lib/ (see SdpReading). */
export function readSdp(sdp: string): SdpReading {
  const sessionAttributes: string[] = [];
  const mediaAttributes: string[][] = [];
  // The same lines sdp-transform reads: `<letter>=...`, any line break.
  for (const line of sdp.split(/\r\n|\r|\n/)) {
    if (line.startsWith('m=')) mediaAttributes.push([]);
    else if (line.startsWith('a=')) (mediaAttributes.at(-1) ?? sessionAttributes).push(line.slice(2));
  }
  return { parsed: parse(sdp), sessionAttributes, mediaAttributes };
}

/** The values of an attribute in attribute lines (`key:value`), every repeat, trimmed. */
export function attributeValues(attributes: string[], key: string): string[] {
  const prefix = `${key}:`;
  return attributes.filter((attribute) => attribute.startsWith(prefix)).map((attribute) => attribute.slice(prefix.length).trim());
}

/** An m-section's mid as a string, or null (sdp-transform reads `a=mid:0` as the number 0). */
export function midOf(media: MediaDescription): string | null {
  return media.mid === undefined ? null : String(media.mid);
}

/** The mid of each m-line, in order (null where there is no a=mid). */
export function mediaMids(sdp: string): (string | null)[] {
  return parse(sdp).media.map(midOf);
}

/** Whether an m-section is rejected: port 0, unless it is bundle-only (RFC 8843), as webrtcbin's max-bundle offers have. */
export function isRejected(media: MediaDescription): boolean {
  return media.port === 0 && (media as { bundleOnly?: string }).bundleOnly === undefined;
}

/**
 * Makes a remote description acceptable to webrtcbin 1.22 without changing its
 * meaning: an m-section rejected with port 0 (Firefox answers H.264 that way when
 * it has none) may lack ice-ufrag/ice-pwd, which webrtcbin refuses ("missing or
 * contains an empty 'ice-ufrag'"). Such sections get the credentials of the
 * session or of the first section that has them; nothing flows on them anyway.
 */
export function normalizeRemoteSdp(sdp: string): string {
  if (!/^m=\S+ 0[ /]/m.test(sdp)) return sdp; // no m-line with port 0: nothing to mend, and nothing to parse
  const parsed = parse(sdp);
  const donor = parsed.iceUfrag !== undefined ? parsed : parsed.media.find((media) => media.iceUfrag !== undefined && media.icePwd !== undefined);
  if (donor?.iceUfrag === undefined || donor.icePwd === undefined) return sdp;
  const needs = parsed.media.map((media) => isRejected(media) && (media.iceUfrag === undefined || media.icePwd === undefined) && parsed.iceUfrag === undefined);
  if (!needs.includes(true)) return sdp;
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const [session, ...sections] = sdp.split(/\r?\n(?=m=)/);
  const patched = sections.map((section, index) => {
    if (!needs[index]) return section;
    const [mline, ...rest] = section.split(/\r?\n/);
    const kept = rest.filter((line) => !line.startsWith('a=ice-ufrag:') && !line.startsWith('a=ice-pwd:'));
    return [mline, `a=ice-ufrag:${donor.iceUfrag}`, `a=ice-pwd:${donor.icePwd}`, ...kept].join(eol);
  });
  return [session, ...patched].join(eol);
}

/**
 * An answer that rejects what its offer rejected (RFC 3264 section 6, JSEP
 * section 5.3.1): webrtcbin 1.22 answers an m-section offered with port 0 as if
 * it were offered, and keeps it in its BUNDLE group. A browser offers that after
 * `transceiver.stop()`, and Chromium then refuses the answer ("A BUNDLE group in
 * answer contains a MID='1' that was not in the offered group"). Such sections
 * get port 0 and leave the BUNDLE group; webrtcbin skips port-0 sections when
 * the answer is applied.
 */
export function rejectAsOffered(answerSdp: string, offerSdp: string): string {
  if (!/^m=\S+ 0[ /]/m.test(offerSdp)) return answerSdp; // nothing rejected: nothing to parse
  const offered = parse(offerSdp).media;
  if (!offered.some(isRejected)) return answerSdp;
  const rejectedMids = new Set(offered.filter(isRejected).map(midOf).filter((mid) => mid !== null));
  const eol = answerSdp.includes('\r\n') ? '\r\n' : '\n';
  const [session, ...sections] = answerSdp.split(/\r?\n(?=m=)/);
  const group = (line: string) => {
    const [tag, ...mids] = line.split(' ');
    const kept = mids.filter((mid) => !rejectedMids.has(mid));
    return kept.length > 0 ? [tag, ...kept].join(' ') : null;
  };
  const sessionLines = session.split(/\r?\n/).flatMap((line) => (line.startsWith('a=group:BUNDLE') ? (group(line) ?? []) : [line]));
  const answered = sections.map((section, index) => (offered[index] !== undefined && isRejected(offered[index]) ? section.replace(/^(m=\S+) \d+/, '$1 0') : section));
  return [sessionLines.join(eol), ...answered].join(eol);
}

/**
 * Adds a local candidate to a description's text at its m-line, as browsers show
 * gathered candidates in localDescription (non-trickle peers read them there).
 */
export function withCandidate(sdp: string, mlineIndex: number, candidate: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const [session, ...sections] = sdp.split(/\r?\n(?=m=)/);
  if (mlineIndex < 0 || mlineIndex >= sections.length) return sdp;
  const line = `a=${candidate.replace(/^a=/, '')}`;
  const section = sections[mlineIndex].replace(/(\r?\n)*$/, '');
  if (section.split(/\r?\n/).includes(line)) return sdp;
  sections[mlineIndex] = `${section}${eol}${line}${eol}`;
  // Sections other than the last keep their single line break before the next m=.
  return [session, ...sections.map((text, index) => (index === sections.length - 1 ? text : text.replace(/(\r?\n)*$/, '')))].join(eol);
}

/** How many audio/video m-lines a description has that are not rejected and that the remote side sends on. */
export function sendingMediaCount(sdp: string): number {
  return parse(sdp).media.filter((media) => (media.type === 'audio' || media.type === 'video') && !isRejected(media) && media.direction !== 'recvonly' && media.direction !== 'inactive').length;
}

const CANDIDATE = /^(a=)?candidate:\S+ (\d+) (udp|tcp) \d+ \S+ \d+ typ (host|srflx|prflx|relay)( .*)?$/i;

/**
 * Whether a candidate attribute follows RFC 8839's grammar, with a component id
 * from 1 to 256. libnice takes component 0 and prints a CRITICAL
 * (nice_agent_set_remote_candidates: `component_id >= 1`; found by the fuzzer).
 */
export function isWellFormedCandidate(text: string): boolean {
  const component = CANDIDATE.exec(text.trim())?.[2];
  return component !== undefined && Number(component) >= 1 && Number(component) <= 256;
}

/**
 * Checks a candidate against the remote description's m-lines (their `mids`)
 * and finds its m-line. Throws TypeError for a malformed candidate,
 * OperationError for an m-line or mid the remote description does not have.
 */
export function candidateMLine(candidate: IceCandidate, mids: (string | null)[]): number {
  if (typeof candidate.candidate !== 'string') throw new TypeError('candidate.candidate must be a string');
  if (!isWellFormedCandidate(candidate.candidate)) throw new TypeError(`malformed ICE candidate: ${JSON.stringify(candidate.candidate.slice(0, 120))}`);
  const { sdpMLineIndex, sdpMid } = candidate;
  if (typeof sdpMid === 'string' && sdpMid !== '') {
    const index = mids.indexOf(sdpMid);
    if (index < 0) throw new OperationError(`sdpMid ${JSON.stringify(sdpMid)} is not in the remote description`);
    return index;
  }
  if (sdpMLineIndex !== undefined && sdpMLineIndex !== null) {
    if (!Number.isInteger(sdpMLineIndex) || sdpMLineIndex < 0) throw new TypeError('sdpMLineIndex must be a non-negative integer');
    if (sdpMLineIndex >= mids.length) throw new OperationError(`sdpMLineIndex ${sdpMLineIndex} does not exist: the remote description has ${mids.length} m-line(s)`);
    return sdpMLineIndex;
  }
  throw new TypeError('a candidate needs sdpMLineIndex or sdpMid');
}

/** Whether a candidate's address is an mDNS name (`<uuid>.local`), as browsers send by default. */
export function isMdnsCandidate(candidate: string): boolean {
  const address = candidate.replace(/^(a=)?candidate:/i, '').split(/\s+/)[4];
  return address !== undefined && /\.local\.?$/i.test(address);
}
