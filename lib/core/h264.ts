// H.264 as browsers accept it: profile-level-id (RFC 6184 section 8.1),
// packetization-mode=1, SPS/PPS in band, and the encoder settings that give it.
import { missingElementError } from './missing-dependency.js';
import { native } from './native.js';

/** H.264 profiles, by the names GStreamer's caps use. */
export type H264Profile =
  | 'constrained-baseline'
  | 'baseline'
  | 'main'
  | 'extended'
  | 'high'
  | 'constrained-high'
  | 'high-10'
  | 'high-4:2:2'
  | 'high-4:4:4';

/** A decoded `profile-level-id`. */
export interface ProfileLevelId {
  /** The profile, or null for a combination RFC 6184 does not name. */
  profile: H264Profile | null;
  /** `profile_idc`, e.g. 0x42 for (constrained) baseline. */
  profileIdc: number;
  /** `profile-iop`: the constraint_set flags byte. */
  profileIop: number;
  /** `level_idc`, e.g. 31 for level 3.1. */
  levelIdc: number;
  /** The level as written in the standard: `'3.1'`, `'1b'`. */
  level: string;
}

/**
 * Constrained baseline, level 3.1 (up to 1280x720 at 30 fps): what every browser
 * decodes, and what this library encodes by default.
 */
export const DEFAULT_PROFILE_LEVEL_ID = '42e01f';

/** The RTP payload type this library gives H.264 (VP8 is 96, Opus 111). */
export const H264_PAYLOAD_TYPE = 102;

// RFC 6184 table 5: profile_idc and a pattern over the eight profile-iop bits
// (constraint_set0_flag first; x matches either value).
const PROFILE_PATTERNS: [H264Profile, number, string][] = [
  ['constrained-baseline', 0x42, 'x1xx0000'],
  ['constrained-baseline', 0x4d, '1xxx0000'],
  ['constrained-baseline', 0x58, '11xx0000'],
  ['baseline', 0x42, 'x0xx0000'],
  ['baseline', 0x58, '10xx0000'],
  ['main', 0x4d, '0x0x0000'],
  ['extended', 0x58, '00xx0000'],
  ['high', 0x64, '00000000'],
  ['constrained-high', 0x64, '00001100'],
  ['high-10', 0x6e, '00000000'],
  ['high-4:2:2', 0x7a, '00000000'],
  ['high-4:4:4', 0xf4, '00000000'],
];

const PROFILE_IDC: Record<H264Profile, [idc: number, iop: number]> = {
  'constrained-baseline': [0x42, 0xe0],
  baseline: [0x42, 0x00],
  main: [0x4d, 0x00],
  extended: [0x58, 0x00],
  high: [0x64, 0x00],
  'constrained-high': [0x64, 0x0c],
  'high-10': [0x6e, 0x00],
  'high-4:2:2': [0x7a, 0x00],
  'high-4:4:4': [0xf4, 0x00],
};

function matchesIop(iop: number, pattern: string): boolean {
  for (let bit = 0; bit < 8; bit++) {
    const wanted = pattern[bit];
    if (wanted !== 'x' && ((iop >> (7 - bit)) & 1) !== Number(wanted)) return false;
  }
  return true;
}

/**
 * Decodes a `profile-level-id` (six hex digits).
 * @throws TypeError when it is not six hex digits.
 */
export function parseProfileLevelId(text: string): ProfileLevelId {
  if (typeof text !== 'string' || !/^[0-9a-fA-F]{6}$/.test(text)) throw new TypeError(`profile-level-id must be six hex digits, not ${JSON.stringify(text)}`);
  const value = parseInt(text, 16);
  const profileIdc = value >> 16;
  const profileIop = (value >> 8) & 0xff;
  const levelIdc = value & 0xff;
  const profile = PROFILE_PATTERNS.find(([, idc, pattern]) => idc === profileIdc && matchesIop(profileIop, pattern))?.[0] ?? null;
  // Level 1b: level_idc 11 with constraint_set3 in the baseline-family profiles, or level_idc 9.
  const isLevel1b = levelIdc === 9 || (levelIdc === 11 && (profileIop & 0x10) !== 0 && [0x42, 0x4d, 0x58].includes(profileIdc));
  const level = isLevel1b ? '1b' : `${Math.floor(levelIdc / 10)}.${levelIdc % 10}`.replace(/\.0$/, '');
  return { profile, profileIdc, profileIop, levelIdc, level };
}

/**
 * Encodes a profile and a level as `profile-level-id`, e.g.
 * `profileLevelId('constrained-baseline', '3.1')` is `'42e01f'`.
 * @throws TypeError for an unknown profile or level.
 */
export function profileLevelId(profile: H264Profile, level: string = '3.1'): string {
  const idc = PROFILE_IDC[profile];
  if (idc === undefined) throw new TypeError(`unknown H.264 profile ${JSON.stringify(profile)}`);
  if (!/^(1b|[1-6](\.[0-3])?)$/.test(level)) throw new TypeError(`unknown H.264 level ${JSON.stringify(level)}`);
  const levelIdc = level === '1b' ? 9 : Math.round(Number(level) * 10);
  return [idc[0], idc[1], levelIdc].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Whether two `profile-level-id`s name the same profile (the level may differ:
 * it is a receiver's limit, which browsers apply loosely). This is how browsers
 * match H.264 formats in offer/answer.
 */
export function sameH264Profile(a: string, b: string): boolean {
  const first = parseProfileLevelId(a).profile;
  return first !== null && first === parseProfileLevelId(b).profile;
}

/** RTP caps for an H.264 stream browsers accept: packetization-mode=1 and an explicit profile-level-id. */
export function h264RtpCaps(options: { payloadType?: number; profileLevelId?: string } = {}): string {
  const payloadType = options.payloadType ?? H264_PAYLOAD_TYPE;
  const id = options.profileLevelId ?? DEFAULT_PROFILE_LEVEL_ID;
  parseProfileLevelId(id);
  return (
    `application/x-rtp, media=(string)video, encoding-name=(string)H264, payload=(int)${payloadType}, clock-rate=(int)90000, ` +
    `packetization-mode=(string)1, profile-level-id=(string)${id.toLowerCase()}`
  );
}

/** Settings of an H.264 encoder for real-time streaming. */
export interface H264EncoderOptions {
  /** Target bitrate in kbit/s. Default 1500. */
  bitrate?: number;
  /**
   * Frames between natural keyframes. Default 60. Viewers that join get a
   * keyframe on request; this only bounds recovery after loss.
   */
  keyframeInterval?: number;
  /** Default `'constrained-baseline'`, which every browser decodes. */
  profile?: 'constrained-baseline' | 'baseline' | 'main' | 'high';
  /** Which encoder: `x264enc` (gstreamer1.0-plugins-ugly) or `openh264enc`. Default: the first installed. */
  encoder?: 'x264enc' | 'openh264enc';
}

/** Encoder factories whose output browsers decode, in order of preference. */
export const H264_ENCODERS = ['x264enc', 'openh264enc'] as const;

/**
 * A pipeline fragment from raw video to browser-ready H.264: low-latency
 * encoder, the profile in caps, then h264parse with SPS/PPS before every
 * keyframe (`config-interval=-1`), whole access units.
 * @throws MissingDependencyError when no H.264 encoder is installed; TypeError for bad options.
 */
export function h264EncoderFragment(options: H264EncoderOptions = {}): string {
  const bitrate = options.bitrate ?? 1500;
  const keyframeInterval = options.keyframeInterval ?? 60;
  const profile = options.profile ?? 'constrained-baseline';
  if (!Number.isInteger(bitrate) || bitrate <= 0) throw new TypeError('bitrate must be a positive integer (kbit/s)');
  if (!Number.isInteger(keyframeInterval) || keyframeInterval <= 0) throw new TypeError('keyframeInterval must be a positive integer (frames)');
  if (!['constrained-baseline', 'baseline', 'main', 'high'].includes(profile)) throw new TypeError(`unsupported H.264 profile ${JSON.stringify(profile)}`);
  const encoder = options.encoder ?? H264_ENCODERS.find((factory) => native.hasElement(factory));
  if (encoder === undefined || !native.hasElement(encoder)) throw missingElementError(encoder ?? 'x264enc');
  const settings =
    encoder === 'x264enc'
      ? `x264enc tune=zerolatency speed-preset=ultrafast bitrate=${bitrate} key-int-max=${keyframeInterval}`
      : `openh264enc usage-type=camera rate-control=bitrate complexity=low bitrate=${bitrate * 1000} gop-size=${keyframeInterval}`;
  return `${settings} ! video/x-h264,profile=${profile} ! ${H264_PARSER}`;
}

/**
 * Normalizes any H.264 stream (an encoder's, a camera's) for payloading: SPS/PPS
 * before every keyframe and whole access units. (A capsfilter element rather
 * than bare caps, so that caps may follow the fragment in a description.)
 */
export const H264_PARSER = 'h264parse config-interval=-1 ! capsfilter caps="video/x-h264,alignment=au"';

/**
 * The RTP payloader for H.264 to browsers: SPS/PPS with every keyframe, one
 * access unit per RTP timestamp, sent as soon as it is complete.
 */
export function h264Payloader(payloadType: number = H264_PAYLOAD_TYPE): string {
  return `rtph264pay config-interval=-1 aggregate-mode=zero-latency pt=${payloadType}`;
}
