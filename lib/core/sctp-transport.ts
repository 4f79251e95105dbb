// What each webrtcbin's SCTP transport (its data channels) gets as webrtcbin
// makes it, natively (native/sctp_transport.cc): a usrsctp association id no
// other webrtcbin of the process has, and a cap on how much it sends ahead.
import { native, type NativeObject } from './native.js';

/**
 * The most this side's SCTP keeps in flight, in bytes: the peer's advertised
 * receive window is capped here (native/sctp_send_window.cc). GStreamer's
 * sctpenc sleeps 100 ms whenever usrsctp's 1 MiB send buffer is entirely in
 * flight, which a larger window lets happen on a fast path: a 64 MiB loopback
 * transfer took 3.5 to 4.5 s with 23 to 34 such sleeps, and 1.1 to 1.3 s with
 * none at 512 KiB (768 KiB still slept: usrsctp counts a chunk's overhead in the
 * window). It bounds one channel's throughput at 512 KiB per round trip
 * (5 MB/s at 100 ms), where the 1 MiB buffer bounds it at twice that.
 */
export const SCTP_SEND_WINDOW_BYTES = 512 * 1024;

/** Prepares the SCTP elements of `webrtcbin` as it adds them; idempotent. Call before the first description is applied. */
export function prepareSctpTransport(webrtcbin: NativeObject): void {
  native.prepareSctpTransport(webrtcbin, SCTP_SEND_WINDOW_BYTES);
}
