// SDP touch-ups at the HTTP boundary: what peers that speak WHIP/WHEP send and
// expect, made acceptable to webrtcbin 1.22 and to them.
import type { IceCandidate } from '../core/types.js';

function splitSections(sdp: string): { session: string[]; media: string[][] } {
  const lines = sdp.split(/\r?\n/).filter((line) => line !== '');
  const session: string[] = [];
  const media: string[][] = [];
  for (const line of lines) {
    if (line.startsWith('m=')) media.push([line]);
    else if (media.length === 0) session.push(line);
    else media[media.length - 1].push(line);
  }
  return { session, media };
}

function join(session: string[], media: string[][]): string {
  return [...session, ...media.flat()].map((line) => `${line}\r\n`).join('');
}

const isCredential = (line: string) => line.startsWith('a=ice-ufrag:') || line.startsWith('a=ice-pwd:');

/**
 * A remote description as webrtcbin 1.22 can take it:
 * - ICE credentials only at media level (it aborts the process when a=ice-pwd
 *   is at session and media level; session-level ones are copied into each
 *   m-line that has none);
 * - no mDNS (`.local`) candidates, which it would hand to the system's DNS
 *   resolver (the connection forms through peer-reflexive candidates).
 */
export function normalizeRemoteSdp(sdp: string): string {
  const { session, media } = splitSections(sdp);
  const sessionCredentials = session.filter(isCredential);
  const cleanSession = session.filter((line) => !isCredential(line));
  const cleanMedia = media.map((section) => {
    const lines = section.filter((line) => !(line.startsWith('a=candidate:') && isMdnsAddress(line)));
    const missing = sessionCredentials.filter((credential) => !lines.some((line) => line.startsWith(credential.slice(0, credential.indexOf(':') + 1))));
    return [...lines, ...missing];
  });
  return join(cleanSession, cleanMedia);
}

function isMdnsAddress(candidateLine: string): boolean {
  const address = candidateLine.replace(/^a=candidate:/, '').split(/\s+/)[4];
  return address !== undefined && /\.local\.?$/i.test(address);
}

/**
 * A local description as WHIP/WHEP peers expect it: the first m-line's ICE
 * credentials also at session level (OBS reads them there), and every gathered
 * candidate in its m-line (webrtcbin may not have added the last ones).
 */
export function completeLocalSdp(sdp: string, candidates: readonly IceCandidate[] = [], endOfCandidates = false): string {
  const { session, media } = splitSections(sdp);
  const withCandidates = media.map((section, index) => {
    const mid = section.find((line) => line.startsWith('a=mid:'))?.slice(6).trim() ?? null;
    const lines = [...section];
    for (const candidate of candidates) {
      const belongs = candidate.sdpMid != null && mid !== null ? candidate.sdpMid === mid : candidate.sdpMLineIndex === index;
      if (!belongs || candidate.candidate === '') continue;
      const line = `a=${candidate.candidate.replace(/^a=/, '')}`;
      if (!lines.includes(line)) lines.push(line);
    }
    if (endOfCandidates && lines.some((line) => line.startsWith('a=candidate:')) && !lines.includes('a=end-of-candidates')) lines.push('a=end-of-candidates');
    return lines;
  });
  const first = withCandidates[0] ?? [];
  const credentials = session.some(isCredential) ? [] : first.filter(isCredential);
  // Session-level attributes must come before the first m-line; after t= is fine.
  const at = session.findIndex((line) => line.startsWith('t='));
  const newSession = at < 0 ? [...session, ...credentials] : [...session.slice(0, at + 1), ...credentials, ...session.slice(at + 1)];
  return join(newSession, withCandidates);
}

/** The ICE credentials of a description (media level first, then session level). */
export function iceCredentials(sdp: string): { ufrag: string | null; pwd: string | null } {
  const ufrag = /^a=ice-ufrag:(\S+)/m.exec(sdp.split(/\r?\nm=/).slice(1).join('\n'))?.[1] ?? /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1] ?? null;
  const pwd = /^a=ice-pwd:(\S+)/m.exec(sdp.split(/\r?\nm=/).slice(1).join('\n'))?.[1] ?? /^a=ice-pwd:(\S+)/m.exec(sdp)?.[1] ?? null;
  return { ufrag, pwd };
}

/** Each m-line's `m=` line and mid. */
export function mediaSections(sdp: string): { mline: string; mid: string | null }[] {
  return splitSections(sdp).media.map((section) => ({ mline: section[0], mid: section.find((line) => line.startsWith('a=mid:'))?.slice(6).trim() ?? null }));
}
