// The codes of the "gst-webrtc-node" error domain: what a GstError raised by the
// native layer itself carries as `code` (errors from GStreamer keep their own
// GLib domain and code). The same table as native/error_codes.h;
// test/error-codes.test.ts checks that the two agree.

/** GLib error domain of the codes below: `GstError.domain` of errors the binding raises itself. */
export const ERROR_DOMAIN = 'gst-webrtc-node';

/** `GstError.code` values in the {@link ERROR_DOMAIN} domain. */
export const ErrorCode = {
  /** No more specific code. */
  Unknown: 0,
  /** The pipeline, webrtcbin or object is closed or gone. */
  Closed: 1,
  /** Two elements or pads could not be linked. */
  LinkFailed: 2,
  /** An element could not be started at its pipeline's state. */
  StateChangeFailed: 3,
  /** A session description that GStreamer's SDP parser refused. */
  SdpUnparsable: 4,
  /** webrtcbin refused a transceiver. */
  TransceiverRefused: 5,
  /** webrtcbin refused a data channel. */
  DataChannelRefused: 6,
  /** An element gave no pad for a template. */
  NoSuchPad: 7,
  /** An element of that name already exists in the pipeline. */
  NameInUse: 8,
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Whether `error` is a GstError the binding raised itself with that code. */
export function hasErrorCode(error: unknown, code: ErrorCode): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { domain, code: actual } = error as { domain?: unknown; code?: unknown };
  return domain === ERROR_DOMAIN && actual === code;
}
