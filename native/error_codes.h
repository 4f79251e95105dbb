// The codes of the "gst-webrtc-node" error domain: the `code` of a GstError the
// native layer raises itself (GStreamer's own errors keep their GLib domain and
// code). lib/core/error-codes.ts holds the same table for TypeScript, and
// test/error-codes.test.ts parses this file to check that both agree, so
// nothing classifies an error by its message text or a bare number.
//
// One X(name, value) per line; values never change once released.
#pragma once

#define GST_WEBRTC_NODE_ERROR_CODES(X) \
  X(Unknown, 0)                        \
  X(Closed, 1)                         \
  X(LinkFailed, 2)                     \
  X(StateChangeFailed, 3)              \
  X(SdpUnparsable, 4)                  \
  X(TransceiverRefused, 5)             \
  X(DataChannelRefused, 6)             \
  X(NoSuchPad, 7)                      \
  X(NameInUse, 8)

enum class ErrorCode : int {
#define GST_WEBRTC_NODE_ERROR_ENUM(name, value) name = value,
  GST_WEBRTC_NODE_ERROR_CODES(GST_WEBRTC_NODE_ERROR_ENUM)
#undef GST_WEBRTC_NODE_ERROR_ENUM
};

// The GLib error domain of these codes.
#define GST_WEBRTC_NODE_ERROR_DOMAIN "gst-webrtc-node"
