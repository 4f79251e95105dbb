// application/trickle-ice-sdpfrag bodies (RFC 8840, as WHIP/WHEP use them in
// PATCH): ICE credentials, then per m-line its mid, candidates and
// a=end-of-candidates.
import type { IceCandidate } from '../core/types.js';

/** The media type of trickle ICE PATCH bodies. */
export const TRICKLE_ICE_SDPFRAG = 'application/trickle-ice-sdpfrag';

/** What a trickle fragment carries. */
export interface TrickleFragment {
  /** `a=ice-ufrag` (session level, or the first m-line's). */
  iceUfrag: string | null;
  /** `a=ice-pwd`. */
  icePwd: string | null;
  /** Candidates, each with the mid (and index within the fragment) of its m-line. */
  candidates: IceCandidate[];
  /** Whether a=end-of-candidates was present. */
  endOfCandidates: boolean;
}

/** One m-line of the fragment to build: its `m=` line and mid, as in the local description. */
export interface FragmentMedia {
  mline: string;
  mid: string | null;
  candidates: string[];
  endOfCandidates: boolean;
}

/** Builds a trickle fragment (CRLF line ends). */
export function buildTrickleFragment(iceUfrag: string | null, icePwd: string | null, media: FragmentMedia[]): string {
  const lines: string[] = [];
  if (iceUfrag !== null) lines.push(`a=ice-ufrag:${iceUfrag}`);
  if (icePwd !== null) lines.push(`a=ice-pwd:${icePwd}`);
  for (const section of media) {
    lines.push(section.mline);
    if (section.mid !== null) lines.push(`a=mid:${section.mid}`);
    for (const candidate of section.candidates) lines.push(`a=${candidate.replace(/^a=/, '')}`);
    if (section.endOfCandidates) lines.push('a=end-of-candidates');
  }
  return lines.map((line) => `${line}\r\n`).join('');
}

/**
 * Parses a trickle fragment. Candidates carry the mid of their m-line and,
 * when it has none, their m-line's index within the fragment.
 * @throws TypeError for a body that is not a fragment (a line that is not `x=...`, a candidate outside an m-line).
 */
export function parseTrickleFragment(text: string): TrickleFragment {
  if (typeof text !== 'string') throw new TypeError('a trickle fragment must be text');
  const fragment: TrickleFragment = { iceUfrag: null, icePwd: null, candidates: [], endOfCandidates: false };
  let mlineIndex = -1;
  let mid: string | null = null;
  const pending: IceCandidate[] = [];
  const flush = () => {
    for (const candidate of pending.splice(0)) fragment.candidates.push(mid !== null ? { ...candidate, sdpMid: mid, sdpMLineIndex: undefined } : candidate);
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (!/^[a-z]=/.test(line)) throw new TypeError(`not an SDP fragment line: ${JSON.stringify(line.slice(0, 80))}`);
    if (line.startsWith('m=')) {
      flush();
      mlineIndex++;
      mid = null;
    } else if (line.startsWith('a=mid:')) {
      mid = line.slice(6).trim();
    } else if (line.startsWith('a=ice-ufrag:')) {
      fragment.iceUfrag ??= line.slice(12).trim();
    } else if (line.startsWith('a=ice-pwd:')) {
      fragment.icePwd ??= line.slice(10).trim();
    } else if (line.startsWith('a=candidate:')) {
      if (mlineIndex < 0) throw new TypeError('a candidate before any m-line in the trickle fragment');
      pending.push({ candidate: line.slice(2), sdpMLineIndex: mlineIndex });
    } else if (line === 'a=end-of-candidates') {
      fragment.endOfCandidates = true;
    }
  }
  flush();
  return fragment;
}
