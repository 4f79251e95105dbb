// The caps that make a payloader add the transport-wide sequence numbers TWCC
// feedback is about.
import { TRANSPORT_CC_ID, TRANSPORT_CC_URI } from '../../core/receive-feedback.js';

/**
 * A pipeline fragment to put right after an RTP payloader, starting with
 * ` ! `: a capsfilter whose caps name the transport-cc header extension, so
 * that the payloader (GStreamer >= 1.20, `auto-header-extension`) writes the
 * transport-wide sequence number into every packet and the offer announces
 * the extension. Without it a receiver sends no TWCC feedback and congestion
 * control has only receiver reports. `id` must be the one negotiated: 3 in
 * this library's offers; a remote offer's own id when answering one.
 */
export function transportCcCaps(id: number = TRANSPORT_CC_ID): string {
  if (!Number.isInteger(id) || id < 1 || id > 14) throw new TypeError('a one-byte RTP header extension id is 1 to 14');
  return ` ! capsfilter caps="application/x-rtp,extmap-${id}=(string)\\"${TRANSPORT_CC_URI}\\""`;
}
