// Which codec to send: what a remote description offers, matched against what
// we can send. H.264 formats match by profile and packetization-mode, as in browsers.
import { parseParams } from 'sdp-transform';

import { DEFAULT_PROFILE_LEVEL_ID, H264_PAYLOAD_TYPE, h264Payloader, h264RtpCaps, sameH264Profile } from './h264.js';
import { feedbackCapsFields } from './receive-feedback.js';
import { isRejected, parseSdp } from './sdp.js';
import type { MediaKind } from './types.js';

/** Codecs a MediaFanOut and the helpers here can send. */
export type SendCodec = 'H264' | 'VP8' | 'OPUS';

/** One format of one m-line of an SDP. */
export interface SdpCodec {
  /** The m-line's index. */
  mlineIndex: number;
  /** The m-line's mid, or null. */
  mid: string | null;
  kind: MediaKind;
  payloadType: number;
  /** Upper case, e.g. `H264`, `VP8`, `OPUS`. */
  encodingName: string;
  clockRate: number;
  /** Audio channels, when given. */
  channels?: number;
  /** `a=fmtp` parameters, keys in lower case. */
  fmtp: Record<string, string>;
  /** `a=rtcp-fb` values, e.g. `nack pli`. */
  rtcpFeedback: string[];
}

/** The payload types this library gives each codec (each stream in a BUNDLE needs its own). */
export const DEFAULT_PAYLOAD_TYPES: Record<SendCodec, number> = { VP8: 96, H264: H264_PAYLOAD_TYPE, OPUS: 111 };

/**
 * The RTP caps `addTransceiver('video' | 'audio')` offers: codecs every browser
 * decodes (VP8 and constrained-baseline H.264 for video, Opus for audio), with
 * the feedback a receiver gives (see receive-feedback.ts).
 */
export function transceiverCaps(kind: MediaKind): string {
  const feedback = feedbackCapsFields(kind).join(', ');
  if (kind === 'audio') return `application/x-rtp, media=(string)audio, encoding-name=(string)OPUS, payload=(int)${DEFAULT_PAYLOAD_TYPES.OPUS}, clock-rate=(int)48000, encoding-params=(string)2, ${feedback}`;
  return `application/x-rtp, media=(string)video, encoding-name=(string)VP8, payload=(int)${DEFAULT_PAYLOAD_TYPES.VP8}, clock-rate=(int)90000, ${feedback}; ${h264RtpCaps()}, ${feedback}`;
}

const KIND_OF: Record<SendCodec, MediaKind> = { VP8: 'video', H264: 'video', OPUS: 'audio' };

/** The media kind of a codec. */
export function codecKind(codec: SendCodec): MediaKind {
  return KIND_OF[codec];
}

/**
 * Every format of every audio and video m-line that is not rejected (port 0
 * without bundle-only), in SDP order.
 */
export function sdpCodecs(sdp: string): SdpCodec[] {
  if (typeof sdp !== 'string') throw new TypeError('sdp must be a string');
  const codecs: SdpCodec[] = [];
  parseSdp(sdp).media.forEach((media, mlineIndex) => {
    if ((media.type !== 'audio' && media.type !== 'video') || isRejected(media)) return;
    const mid = media.mid === undefined ? null : String(media.mid);
    for (const rtp of media.rtp) {
      const fmtp: Record<string, string> = {};
      const config = media.fmtp.find((entry) => entry.payload === rtp.payload)?.config ?? '';
      for (const [key, value] of Object.entries(parseParams(config))) fmtp[key.toLowerCase()] = String(value);
      codecs.push({
        mlineIndex,
        mid,
        kind: media.type,
        payloadType: rtp.payload,
        encodingName: rtp.codec.toUpperCase(),
        clockRate: rtp.rate ?? 0,
        ...(rtp.encoding !== undefined ? { channels: Number(rtp.encoding) } : {}),
        fmtp,
        rtcpFeedback: (media.rtcpFb ?? []).filter((fb) => String(fb.payload) === String(rtp.payload)).map((fb) => (fb.subtype === undefined ? fb.type : `${fb.type} ${fb.subtype}`)),
      });
    }
  });
  return codecs;
}

/** What we can send: a codec, and for H.264 the profile of our stream. */
export interface CodecCapability {
  codec: SendCodec;
  /** For H.264: our stream's profile-level-id. Default constrained baseline (42e01f). */
  profileLevelId?: string;
}

/**
 * Whether a remote format can carry what we send. H.264 needs
 * packetization-mode=1 (what browsers and rtph264pay use) and the same profile;
 * a format without profile-level-id means baseline (RFC 6184), which a
 * constrained baseline stream satisfies.
 */
export function acceptsCodec(remote: SdpCodec, ours: CodecCapability): boolean {
  if (remote.encodingName !== ours.codec) return false;
  if (ours.codec !== 'H264') return true;
  if (remote.fmtp['packetization-mode'] !== '1') return false;
  const theirs = remote.fmtp['profile-level-id'] ?? '42000a';
  const mine = ours.profileLevelId ?? DEFAULT_PROFILE_LEVEL_ID;
  try {
    if (sameH264Profile(theirs, mine)) return true;
    // A baseline decoder decodes constrained baseline: the constraints only remove tools.
    return sameH264Profile(mine, DEFAULT_PROFILE_LEVEL_ID) && sameH264Profile(theirs, '42000a');
  } catch {
    return false; // a malformed profile-level-id matches nothing
  }
}

/**
 * Picks, for one media kind, the first of our capabilities (in our order of
 * preference) that the remote description accepts, and returns the remote's
 * format for it (its payload type is the one to send with). Null when none fits.
 */
export function chooseCodec(sdp: string, kind: MediaKind, capabilities: CodecCapability[]): SdpCodec | null {
  const offered = sdpCodecs(sdp).filter((codec) => codec.kind === kind);
  for (const ours of capabilities) {
    if (codecKind(ours.codec) !== kind) continue;
    const match = offered.find((remote) => acceptsCodec(remote, ours));
    if (match !== undefined) return match;
  }
  return null;
}

/** A short text for errors: the formats an SDP offers for a kind, e.g. `VP8/96, H264/102 (42e01f, mode 1)`. */
export function describeOffered(sdp: string, kind: MediaKind): string {
  const offered = sdpCodecs(sdp).filter((codec) => codec.kind === kind && !['RTX', 'RED', 'ULPFEC', 'FLEXFEC-03'].includes(codec.encodingName));
  if (offered.length === 0) return `no ${kind}`;
  return offered
    .map((codec) => {
      if (codec.encodingName !== 'H264') return `${codec.encodingName}/${codec.payloadType}`;
      return `H264/${codec.payloadType} (${codec.fmtp['profile-level-id'] ?? 'no profile-level-id'}, mode ${codec.fmtp['packetization-mode'] ?? '0'})`;
    })
    .join(', ');
}

/** The RTP payloader fragment for a codec, for browsers. */
export function payloaderFor(codec: SendCodec, payloadType: number = DEFAULT_PAYLOAD_TYPES[codec]): string {
  if (!Number.isInteger(payloadType) || payloadType < 96 || payloadType > 127) throw new TypeError(`a dynamic payload type is 96 to 127, not ${payloadType}`);
  switch (codec) {
    case 'H264':
      return h264Payloader(payloadType);
    case 'VP8':
      return `rtpvp8pay pt=${payloadType} picture-id-mode=15-bit`;
    case 'OPUS':
      return `rtpopuspay pt=${payloadType}`;
  }
}
