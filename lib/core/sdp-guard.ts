// Guards against GStreamer 1.22 webrtcbin assertions that SDP or a call order
// can reach. An assertion aborts the whole process, so each precondition is
// checked here, in JavaScript, before webrtcbin sees the input, and refused with
// the error a browser gives (see docs/reliability.md for each case).
import { InvalidStateError, OperationError } from './errors.js';
import { attributeValues as values, isRejected, isWellFormedCandidate, midOf, readSdp, type MediaDescription, type SdpReading } from './sdp.js';
import type { SessionDescription, SignalingState } from './types.js';

/** What the checks read of one description, read once (readSdp: sdp-transform, plus the lines of each section for repeats). */
type Reading = SdpReading;

/** The session level's and each m-line's attribute lines, named for messages. */
function sectionsByName(reading: Reading): [string, string[]][] {
  return [['the session level', reading.sessionAttributes], ...reading.mediaAttributes.map((attributes, index): [string, string[]] => [`m-line ${index}`, attributes])];
}

function isAudioOrVideo(media: MediaDescription): boolean {
  return media.type === 'audio' || media.type === 'video';
}

/**
 * Each of ice-ufrag and ice-pwd at most once per section (RFC 8839 5.4).
 * webrtcbin 1.22 asserts when a section without both falls back to a session
 * level that repeats one (webrtcsdp.c, _get_ice_credentials_from_sdp_media:
 * `assertion (!*pwd)`).
 */
export function checkIceCredentials(reading: Reading): void {
  for (const [where, attributes] of sectionsByName(reading)) {
    for (const key of ['ice-ufrag', 'ice-pwd']) {
      const count = values(attributes, key).length;
      if (count > 1) throw new OperationError(`the description defines a=${key} ${count} times at ${where}; ICE credentials are defined once per section`);
    }
  }
  // A section without its own pair takes the session level's, and webrtcbin
  // reads the pair from one place only: half at each level gives it a NULL
  // password (gst_webrtc_nice_set_remote_credentials: `pwd != NULL` CRITICAL;
  // found by the fuzzer).
  const pair = (attributes: string[]) => values(attributes, 'ice-ufrag').length > 0 && values(attributes, 'ice-pwd').length > 0;
  const sessionPair = pair(reading.sessionAttributes);
  reading.mediaAttributes.forEach((attributes, index) => {
    const partial = values(attributes, 'ice-ufrag').length + values(attributes, 'ice-pwd').length === 1;
    if (partial && !sessionPair) throw new OperationError(`m-line ${index} has only one of a=ice-ufrag and a=ice-pwd, and the session level does not have both`);
  });
}

/**
 * webrtcbin 1.22 makes the first bundled m-line the BUNDLE transport; when that
 * is a data channel's (m=application) while audio or video is bundled too, it
 * finds no RTP transport for it and asserts when the description is applied
 * (gstwebrtcbin.c, _connect_rtpfunnel: `assertion (stream)`). Its answer lists
 * the m-lines in the offer's order, so both the group's first mid and the first
 * bundled m-line count. And to an offer with a BUNDLE group its answer bundles
 * every m-line in their order, also those outside the group and those rejected
 * with port 0, so for an offer the first m-line counts too (found by the fuzzer:
 * `BUNDLE video0` with m=application first).
 */
export function checkBundleTag(reading: Reading, type: SessionDescription['type']): void {
  const { media, groups } = reading.parsed;
  // String(): sdp-transform reads a one-mid group such as `BUNDLE 0` as the number 0.
  const mids = groups?.find((candidate) => candidate.type === 'BUNDLE')?.mids;
  const group = mids === undefined ? [] : String(mids).trim().split(/\s+/).filter((mid) => mid !== '');
  if (group.length === 0) return;
  const bundled = media.filter((section) => midOf(section) !== null && group.includes(midOf(section)!));
  if (!bundled.some(isAudioOrVideo)) return;
  const tag = media.find((section) => midOf(section) === group[0]);
  if (tag?.type === 'application' || bundled[0]?.type === 'application') {
    throw new OperationError('the description bundles audio or video behind a data channel m-line (the first bundled m-line is m=application); GStreamer 1.22 needs an audio or video m-line first in the BUNDLE group');
  }
  if (type === 'offer' && media[0].type === 'application') {
    throw new OperationError("the offer bundles audio or video and its first m-line is m=application: GStreamer 1.22's answer would bundle every m-line behind the data channel's, which it cannot; it needs an audio or video m-line first");
  }
}

/**
 * Every dynamic payload type (96-127) of an audio or video m-line needs its
 * a=rtpmap (RFC 8866 6.6). webrtcbin 1.22 answers an offer without one, then
 * its next createOffer() never settles: its operations thread spins (found by
 * the fuzzer; the same freeze as case 5 of issue 10).
 */
export function checkRtpMaps(reading: Reading): void {
  reading.parsed.media.forEach((section, index) => {
    if (!isAudioOrVideo(section) || section.port === 0) return;
    // The lines, not sdp-transform's rtp list: webrtcbin takes an a=rtpmap that sdp-transform's grammar skips.
    const mapped = new Set(values(reading.mediaAttributes[index], 'rtpmap').map((value) => value.split(/\s+/)[0]));
    const formats = String(section.payloads ?? '').trim().split(/\s+/);
    const missing = formats.find((format) => Number(format) >= 96 && Number(format) <= 127 && !mapped.has(format));
    if (missing !== undefined) throw new OperationError(`m-line ${index} offers dynamic payload type ${missing} without an a=rtpmap`);
  });
}

/**
 * One a=mid per m-line, and no mid twice (RFC 9143 / 5888). webrtcbin 1.22 uses
 * the first of several, and with a data channel its next createOffer() aborts
 * (_add_data_channel_offer: `last_data_index == medias_len`; found by the fuzzer).
 */
export function checkMids(reading: Reading): void {
  const seen = new Set<string>();
  reading.mediaAttributes.forEach((attributes, index) => {
    const mids = values(attributes, 'mid');
    if (mids.length > 1) throw new OperationError(`m-line ${index} has ${mids.length} a=mid attributes; an m-line has one`);
    if (mids.length === 1) {
      if (seen.has(mids[0])) throw new OperationError(`mid ${JSON.stringify(mids[0])} is on more than one m-line`);
      seen.add(mids[0]);
    }
  });
}

/**
 * webrtcbin 1.22 builds an offer from its last local description, and skips an
 * audio or video m-line that description rejected (port 0, not bundle-only: it
 * keeps no transceiver for it). With a data channel m-line after it, the data
 * channel's place is then one off, and it aborts (_add_data_channel_offer:
 * `last_data_index == medias_len`; found by the fuzzer: an answer to an offer
 * that rejected audio before its data channel, as a browser's after
 * `transceiver.stop()`, then createOffer()).
 */
function checkRejectedBeforeData(local: Reading): void {
  const media = local.parsed.media;
  const application = media.findIndex((section) => section.type === 'application');
  const rejected = media.slice(0, Math.max(application, 0)).findIndex((section) => isAudioOrVideo(section) && isRejected(section));
  if (rejected < 0) return;
  throw new OperationError(
    `createOffer(): m-line ${rejected} was rejected in the last negotiation, and the data channel m-line comes after it; GStreamer 1.22 cannot offer again after that (the other side can)`,
  );
}

/**
 * An a=ssrc is 1 to 2^32 - 1 (RFC 3550 allows 0, but webrtcbin 1.22 maps SSRC 0
 * with a g_return_if_fail that prints a CRITICAL, transport_stream_add_ssrc_map_item:
 * `ssrc != 0`; and a value from 2^32 reads as 0 or wraps; found by the fuzzer).
 */
export function checkSsrcs(reading: Reading): void {
  // The lines: sdp-transform's grammar skips an a=ssrc without an attribute, webrtcbin does not.
  reading.mediaAttributes.forEach((attributes, index) => {
    for (const value of values(attributes, 'ssrc')) {
      const digits = /^\d+/.exec(value)?.[0];
      if (digits === undefined) continue; // not read as an SSRC by webrtcbin
      const ssrc = Number(digits);
      if (ssrc < 1 || ssrc > 0xffffffff) throw new OperationError(`m-line ${index} has a=ssrc:${digits}; GStreamer 1.22 takes SSRCs from 1 to 4294967295`);
    }
  });
}

/**
 * Every a=candidate in the description is well formed (RFC 8839), as a browser
 * requires of the whole description. webrtcbin hands them to libnice, which
 * takes a component id of 0 (a non-number reads as 0) and prints a CRITICAL.
 */
export function checkCandidates(reading: Reading): void {
  reading.mediaAttributes.forEach((attributes, index) => {
    const malformed = attributes.find((attribute) => attribute.startsWith('candidate:') && !isWellFormedCandidate(attribute));
    if (malformed !== undefined) throw new OperationError(`m-line ${index} has a malformed a=${malformed.slice(0, 120)}`);
  });
}

/**
 * webrtcbin takes SDP as a C string: a U+0000 cuts it there, so webrtcbin
 * applies a description other than the one given, and its next createOffer()
 * never settles (found by the fuzzer).
 */
export function checkNoNul(sdp: string): void {
  if (sdp.includes('\0')) throw new TypeError(`malformed SDP: it contains U+0000 (at character ${sdp.indexOf('\0')})`);
}

const DIRECTIONS = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/**
 * Exactly one direction attribute per audio or video m-line. webrtcbin 1.22
 * reads none (RFC 3264's sendrecv default) or several as "no direction", and its
 * next createOffer() never settles: the operations thread spins (found by the
 * fuzzer).
 */
export function checkDirections(reading: Reading): void {
  reading.parsed.media.forEach((section, index) => {
    if (!isAudioOrVideo(section) || section.port === 0) return;
    const count = reading.mediaAttributes[index].filter((attribute) => DIRECTIONS.has(attribute.trim())).length;
    if (count !== 1) throw new OperationError(`m-line ${index} has ${count} direction attributes; GStreamer 1.22 needs exactly one of a=sendrecv, a=sendonly, a=recvonly, a=inactive`);
  });
}

/** The ICE credentials and DTLS fingerprint that identify who made each m-line (a section inherits the session level's). */
function identities(reading: Reading): string[] {
  const first = (attributes: string[], key: string) => values(attributes, key)[0] ?? values(reading.sessionAttributes, key)[0] ?? '';
  return reading.mediaAttributes.map((attributes) => ['ice-ufrag', 'ice-pwd', 'fingerprint'].map((key) => first(attributes, key).toLowerCase()).join(' '));
}

/**
 * Remembers what a webrtcbin created and checks each call against GStreamer
 * 1.22's preconditions. One per WebRtcBin.
 */
export class NegotiationGuard {
  /** The last offer and answer this webrtcbin created, each read once. */
  private lastOffer: Reading | null = null;
  private lastAnswer: Reading | null = null;

  /** Call with every description createOffer()/createAnswer() returns; returns it. */
  created(description: SessionDescription): SessionDescription {
    if (description.type === 'offer') this.lastOffer = readSdp(description.sdp);
    else if (description.type === 'answer') this.lastAnswer = readSdp(description.sdp);
    return description;
  }

  /**
   * createOffer() only in 'stable' and 'have-local-offer' (W3C). webrtcbin 1.22
   * goes on in 'have-remote-offer' and, with a data channel, asserts in
   * _add_data_channel_offer once it has answered (case 3 of issue 10).
   */
  checkCreateOffer(state: SignalingState, hasDataChannels: boolean, appliedLocalSdp: string | null): void {
    if (state !== 'stable' && state !== 'have-local-offer') throw new InvalidStateError(`createOffer() in signaling state ${state}: an offer can be created only in stable or have-local-offer`);
    if (hasDataChannels && appliedLocalSdp !== null) checkRejectedBeforeData(readSdp(appliedLocalSdp));
    // webrtcbin 1.22 rebuilds the offer in the order of its last description and
    // skips the data channel m-line when it has no channel (yet): the m-lines
    // after it are then one place off, and it asserts (sdp_media_from_transceiver:
    // `trans->mline == -1 || trans->mline == media_idx`; found by the fuzzer).
    if (hasDataChannels) return;
    const last = this.lastAnswer ?? this.lastOffer;
    if (last === null) return;
    const media = last.parsed.media;
    const application = media.findIndex((section) => section.type === 'application');
    if (application >= 0 && media.slice(application + 1).some(isAudioOrVideo)) {
      throw new OperationError(`createOffer(): the data channel m-line (${application}) comes before other media and no data channel is open yet; GStreamer 1.22 cannot re-offer that until a channel exists`);
    }
  }

  /** createAnswer() only in 'have-remote-offer' and 'have-local-pranswer' (W3C). */
  checkCreateAnswer(state: SignalingState): void {
    if (state !== 'have-remote-offer' && state !== 'have-local-pranswer') throw new InvalidStateError(`createAnswer() in signaling state ${state}: cannot answer without a remote description of type offer`);
  }

  /**
   * A remote description: ICE credentials once per section, and, for an offer,
   * every m-line keeps the mid it had in the last description this webrtcbin
   * made (JSEP 5.10: m-lines are never reordered). webrtcbin 1.22 asserts on a
   * reordered re-offer when it answers (_create_answer_task: `assertion
   * (g_strcmp0 (mid, last_mid) == 0)`). `transceiverMids` lists the mids its
   * transceivers have: the assertion needs one for the moved mid.
   */
  checkRemote(description: SessionDescription, transceiverMids: () => (string | null)[], localDescription: () => SessionDescription | null): void {
    if (description.type === 'rollback') return;
    checkNoNul(description.sdp);
    const reading = readSdp(description.sdp);
    checkIceCredentials(reading);
    // Mids first: the checks after it read one mid per m-line.
    checkMids(reading);
    checkBundleTag(reading, description.type);
    checkRtpMaps(reading);
    checkDirections(reading);
    checkSsrcs(reading);
    checkCandidates(reading);
    if (description.type !== 'offer') {
      const local = localDescription();
      if (local?.type === 'offer') checkAnswerMatchesOffer(reading, readSdp(local.sdp));
      return;
    }
    // webrtcbin compares with its last generated answer, or else its last generated offer.
    const last = this.lastAnswer ?? this.lastOffer;
    if (last === null) return;
    const before = last.parsed.media;
    const offered = reading.parsed.media;
    let known: Set<string | null> | undefined;
    for (let index = 0; index < Math.min(before.length, offered.length); index++) {
      const mid = midOf(offered[index]);
      if (mid === midOf(before[index]) || !isAudioOrVideo(offered[index])) continue;
      known ??= new Set(transceiverMids());
      if (!known.has(mid)) continue;
      throw new OperationError(`the offer moves mid ${JSON.stringify(mid)} to m-line ${index}, which was mid ${JSON.stringify(midOf(before[index]))}: m-lines must keep their order across offers`);
    }
  }

  /**
   * A local description must be one this webrtcbin created (W3C: the last
   * created offer or answer). One from another peer leaves webrtcbin 1.22's
   * operations thread spinning on the next createOffer(), and close() then
   * freezes (case 5 of issue 10). Compared by each m-line's ICE credentials and
   * DTLS fingerprint, so other edits ("munging") stay possible.
   */
  checkLocal(description: SessionDescription): void {
    if (description.type === 'rollback') return;
    checkNoNul(description.sdp);
    const kind = description.type === 'offer' ? 'offer' : 'answer';
    const created = kind === 'offer' ? this.lastOffer : this.lastAnswer;
    if (created === null) throw new OperationError(`setLocalDescription(${description.type}): this WebRtcBin has created no ${kind}; a local description must come from create${kind === 'offer' ? 'Offer' : 'Answer'}()`);
    const mine = identities(created);
    const given = identities(readSdp(description.sdp));
    if (given.length !== mine.length || given.some((identity, index) => identity !== mine[index])) {
      throw new OperationError(`setLocalDescription(${description.type}): the description's m-lines, ICE credentials or fingerprints are not those of the last ${kind} this WebRtcBin created`);
    }
  }
}

/**
 * The SDP text to hand to webrtcbin. A rollback carries none, but webrtcbin
 * 1.22 needs a parsed message even then, and parsing '' makes GLib print a
 * CRITICAL (gst_sdp_message_parse_buffer: `size != 0`): give it a minimal one.
 */
export function sdpForWebRtcBin(type: SessionDescription['type'], sdp: string): string {
  return type === 'rollback' && sdp.trim() === '' ? 'v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n' : sdp;
}

/**
 * An answer has the offer's m-lines, in order, with their mids (JSEP 5.3.1).
 * webrtcbin 1.22 makes a transceiver with no direction for an m-line its offer
 * did not have and aborts on it (webrtcsdp.c, _get_final_direction: `code
 * should not be reached`; found by the fuzzer).
 */
export function checkAnswerMatchesOffer(answer: Reading, offer: Reading): void {
  const offered = offer.parsed.media.map(midOf);
  const answered = answer.parsed.media.map(midOf);
  if (answered.length !== offered.length || answered.some((mid, index) => mid !== offered[index])) {
    throw new OperationError(`the answer's m-lines (mids ${JSON.stringify(answered)}) are not those of the offer (${JSON.stringify(offered)})`);
  }
}
