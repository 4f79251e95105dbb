// Reads the RTP payloads werift hands over, to check they carry real VP8 and Opus.

/** What the first packet of a VP8 frame says about the frame. */
export interface Vp8FrameStart {
  keyframe: boolean;
  /** Keyframes only: whether the frame header has the start code 0x9d 0x01 0x2a. */
  startCode?: boolean;
  /** Keyframes only: the picture size in the frame header. */
  width?: number;
  height?: number;
}

/**
 * The frame header in a VP8 RTP payload, or null when the packet does not start
 * a frame. Skips the payload descriptor (RFC 7741, section 4.2) and reads the
 * frame tag and keyframe header (RFC 6386, section 9.1).
 */
export function readVp8FrameStart(payload: Buffer): Vp8FrameStart | null {
  if (payload.length < 1) return null;
  const first = payload[0];
  const startOfPartition = (first & 0x10) !== 0;
  const partitionIndex = first & 0x07;
  let offset = 1;
  if ((first & 0x80) !== 0) {
    const extension = payload[offset++];
    if ((extension & 0x80) !== 0) offset += (payload[offset] & 0x80) !== 0 ? 2 : 1; // PictureID, 7 or 15 bits
    if ((extension & 0x40) !== 0) offset += 1; // TL0PICIDX
    if ((extension & 0x30) !== 0) offset += 1; // TID / KEYIDX
  }
  if (!startOfPartition || partitionIndex !== 0 || payload.length < offset + 3) return null;
  const frame = payload.subarray(offset);
  // The frame tag's lowest bit is the inverse keyframe flag.
  if ((frame[0] & 0x01) !== 0) return { keyframe: false };
  if (frame.length < 10) return { keyframe: true, startCode: false };
  return {
    keyframe: true,
    startCode: frame[3] === 0x9d && frame[4] === 0x01 && frame[5] === 0x2a,
    width: frame.readUInt16LE(6) & 0x3fff,
    height: frame.readUInt16LE(8) & 0x3fff,
  };
}

/** Opus frame sizes in units of 0.5 ms for the 4 sizes of each mode (RFC 6716, section 3.1). */
const SILK_SIZES = [20, 40, 80, 120];
const HYBRID_SIZES = [20, 40];
const CELT_SIZES = [5, 10, 20, 40];

/**
 * How much audio an Opus packet holds, in 48 kHz samples, from its TOC byte and
 * frame count (RFC 6716, section 3.1); null when the packet is malformed.
 */
export function opusPacketSamples(payload: Buffer): number | null {
  if (payload.length < 1) return null;
  const toc = payload[0];
  const config = toc >> 3;
  const halfMs = config < 12 ? SILK_SIZES[config % 4] : config < 16 ? HYBRID_SIZES[config % 2] : CELT_SIZES[config % 4];
  const code = toc & 0x03;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code === 1 || code === 2) frames = 2;
  else if (payload.length < 2) return null;
  else frames = payload[1] & 0x3f;
  return (frames * halfMs * 48) / 2;
}
