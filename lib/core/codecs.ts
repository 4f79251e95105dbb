// Which codec to send: what a remote description offers, matched against what
// we can send. H.264 formats match by profile and packetization-mode, as in browsers.
import { DEFAULT_PROFILE_LEVEL_ID, H264_PAYLOAD_TYPE, h264Payloader, sameH264Profile } from './h264.js';
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
  const sections = sdp.split(/\r?\n(?=m=)/).slice(1);
  sections.forEach((section, mlineIndex) => {
    const lines = section.split(/\r?\n/);
    const media = /^m=(audio|video) (\d+)(?:\/\d+)? \S+ ([\d ]+)$/.exec(lines[0].trim());
    // Port 0 rejects an m-line, except in a bundle-only one (RFC 8843), as webrtcbin's max-bundle offers have.
    if (media === null || (media[2] === '0' && !lines.some((line) => line.trim() === 'a=bundle-only'))) return;
    const kind = media[1] as MediaKind;
    const mid = lines.find((line) => line.startsWith('a=mid:'))?.slice(6).trim() ?? null;
    const attribute = (name: string, payloadType: string) =>
      lines.filter((line) => line.startsWith(`a=${name}:${payloadType} `)).map((line) => line.slice(`a=${name}:${payloadType} `.length).trim());
    for (const payloadType of media[3].trim().split(/\s+/)) {
      const rtpmap = /^([^/\s]+)\/(\d+)(?:\/(\d+))?$/.exec(attribute('rtpmap', payloadType)[0] ?? '');
      if (rtpmap === null) continue;
      const fmtp: Record<string, string> = {};
      for (const parameter of (attribute('fmtp', payloadType)[0] ?? '').split(';')) {
        const [key, ...value] = parameter.trim().split('=');
        if (key !== '') fmtp[key.toLowerCase()] = value.join('=');
      }
      codecs.push({
        mlineIndex,
        mid,
        kind,
        payloadType: Number(payloadType),
        encodingName: rtpmap[1].toUpperCase(),
        clockRate: Number(rtpmap[2]),
        ...(rtpmap[3] !== undefined ? { channels: Number(rtpmap[3]) } : {}),
        fmtp,
        rtcpFeedback: attribute('rtcp-fb', payloadType),
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
