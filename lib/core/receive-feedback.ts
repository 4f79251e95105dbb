// What a WebRtcBin asks of whoever sends to it, so that the sender can adapt to
// the link and repair losses: transport-wide congestion control feedback
// (the transport-cc header extension and rtcp-fb), NACK with retransmission
// (RTX), and keyframe requests (PLI, FIR). webrtcbin 1.22 negotiates these only
// for a transceiver whose caps carry them, made before the remote offer is
// applied; a transceiver it makes for an offer itself answers without them.
import type { MediaDescription } from 'sdp-transform';

import type { MediaKind } from './types.js';

/** The header extension transport-wide congestion control feedback needs (draft-holmer-rmcat-transport-wide-cc-extensions). */
export const TRANSPORT_CC_URI = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';

/** The id our own offers give the transport-cc extension (any of 1 to 14 will do). */
export const TRANSPORT_CC_ID = 3;

/**
 * Caps fields that make webrtcbin negotiate the feedback a receiver of `kind`
 * gives; transport-cc with the extension id given, none when null.
 */
export function feedbackCapsFields(kind: MediaKind, transportCcId: number | null = TRANSPORT_CC_ID): string[] {
  const fields = kind === 'video' ? ['rtcp-fb-nack=(boolean)true', 'rtcp-fb-nack-pli=(boolean)true', 'rtcp-fb-ccm-fir=(boolean)true'] : [];
  if (transportCcId !== null) fields.push('rtcp-fb-transport-cc=(boolean)true', `extmap-${transportCcId}=(string)${TRANSPORT_CC_URI}`);
  return fields;
}

/** Codecs that carry no media of their own: never the one to answer with. */
const NOT_MEDIA = new Set(['RTX', 'RED', 'ULPFEC', 'FLEXFEC-03', 'TELEPHONE-EVENT', 'CN']);

/** fmtp parameters that select a format rather than tune it: the answer must repeat them. */
const FORMAT_PARAMETERS = new Set(['packetization-mode', 'profile-level-id', 'level-asymmetry-allowed', 'profile-id', 'profile']);

/**
 * The caps of a receiving transceiver for one m-section of a remote offer: the
 * offer's first media format (what webrtcbin answers with anyway), with the
 * feedback above. Null for a section that carries no audio or video.
 */
export function receiveCapsFor(media: MediaDescription): string | null {
  if (media.type !== 'audio' && media.type !== 'video') return null;
  const rtp = media.rtp.find((format) => !NOT_MEDIA.has(format.codec.toUpperCase()));
  if (rtp === undefined) return null;
  const fields = [
    `media=(string)${media.type}`,
    `encoding-name=(string)${rtp.codec.toUpperCase()}`,
    `payload=(int)${rtp.payload}`,
    `clock-rate=(int)${rtp.rate ?? 90000}`,
  ];
  if (rtp.encoding !== undefined) fields.push(`encoding-params=(string)${rtp.encoding}`);
  const fmtp = media.fmtp.find((entry) => entry.payload === rtp.payload)?.config ?? '';
  for (const parameter of fmtp.split(';')) {
    const [key, value] = parameter.trim().split('=');
    if (key !== undefined && value !== undefined && FORMAT_PARAMETERS.has(key.toLowerCase())) fields.push(`${key.toLowerCase()}=(string)${value}`);
  }
  // transport-cc feedback only where the offer has the extension to carry it, with its id.
  const transportCc = media.ext?.find((extension) => extension.uri === TRANSPORT_CC_URI);
  fields.push(...feedbackCapsFields(media.type, transportCc?.value ?? null));
  return `application/x-rtp, ${fields.join(', ')}`;
}
