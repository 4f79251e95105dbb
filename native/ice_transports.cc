// prepareIceTransports(webrtcbin, bytes): prepares each of the webrtcbin's ICE
// transports each time its ICE gathering state changes (the transports and
// their sockets exist from the start of gathering; preparing again is
// harmless):
// - asks the kernel for `bytes` of send and receive buffer on its UDP sockets;
// - keeps its state in step with libnice's (ice_state_sync.cc).
//
// Why the buffers: libnice's sockets keep the system default (net.core.rmem_default, 208
// KiB on Linux). An SCTP burst on loopback overruns that while nicesrc's thread
// waits for a core, the kernel drops datagrams, and GStreamer's SCTP (usrsctp,
// 1 s minimum retransmission timeout, not reachable in 1.22) stalls a second per
// loss. The kernel caps the size at net.core.rmem_max / wmem_max.
//
// The work runs on webrtcbin's own thread, in its notify::ice-gathering-state
// emission (webrtcbin releases its lock around it), so the JS thread never
// waits for webrtcbin's or libnice's lock. GstWebRTCNiceTransport applies its
// send-buffer-size / receive-buffer-size properties to the sockets that exist
// when they are set.
#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>
#include <napi.h>

#include "ice_state_sync.h"
#include "ice_transports.h"
#include "object.h"

namespace {

// The ICE transport under a GstWebRTCDTLSTransport: the buffer sizes, where it has them, and the state sync.
void PrepareIceTransport(GObject* dtlsTransport, int bytes) {
  if (dtlsTransport == nullptr) return;
  GObject* ice = nullptr;
  g_object_get(dtlsTransport, "transport", &ice, nullptr);
  if (ice == nullptr) return;
  GObjectClass* type = G_OBJECT_GET_CLASS(ice);
  if (g_object_class_find_property(type, "receive-buffer-size") != nullptr && g_object_class_find_property(type, "send-buffer-size") != nullptr) {
    g_object_set(ice, "send-buffer-size", bytes, "receive-buffer-size", bytes, nullptr);
  }
  SyncIceTransportState(ice);
  g_object_unref(ice);
}

// A GObject-valued property of `owner` (a new reference), or null.
GObject* ObjectProperty(gpointer owner, const char* name) {
  GObject* value = nullptr;
  g_object_get(owner, name, &value, nullptr);
  return value;
}

void OnGatheringState(GstElement* webrtcbin, GParamSpec*, gpointer data) {
  const int bytes = GPOINTER_TO_INT(data);
  if (GObject* sctp = ObjectProperty(webrtcbin, "sctp-transport")) {
    GObject* dtls = ObjectProperty(sctp, "transport");
    PrepareIceTransport(dtls, bytes);
    if (dtls != nullptr) g_object_unref(dtls);
    g_object_unref(sctp);
  }
  GArray* transceivers = nullptr;
  g_signal_emit_by_name(webrtcbin, "get-transceivers", &transceivers);
  if (transceivers == nullptr) return;
  for (guint i = 0; i < transceivers->len; i++) {
    GstWebRTCRTPTransceiver* transceiver = g_array_index(transceivers, GstWebRTCRTPTransceiver*, i);
    for (const char* end : {"receiver", "sender"}) {
      GObject* side = ObjectProperty(transceiver, end);
      if (side == nullptr) continue;
      GObject* dtls = ObjectProperty(side, "transport");
      PrepareIceTransport(dtls, bytes);
      if (dtls != nullptr) g_object_unref(dtls);
      g_object_unref(side);
    }
  }
  g_array_unref(transceivers);
}

// prepareIceTransports(webrtcbin, bytes): connects the handler once per webrtcbin
// (later calls change nothing). JS thread: takes no webrtcbin lock.
void PrepareIceTransports(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ObjectRef webrtcbin = NativeObject::From(info[0]);
  if (webrtcbin == nullptr || !GST_IS_BIN(webrtcbin.get())) throw Napi::TypeError::New(env, "expected a webrtcbin");
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "bytes must be a number");
  const int64_t bytes = info[1].As<Napi::Number>().Int64Value();
  if (bytes < 1 || bytes > G_MAXINT / 2) throw Napi::TypeError::New(env, "bytes must be a positive int32");
  static GQuark prepared = g_quark_from_static_string("gst-webrtc-node-ice-transports");
  if (g_object_get_qdata(webrtcbin.get(), prepared) != nullptr) return;
  g_object_set_qdata(webrtcbin.get(), prepared, GINT_TO_POINTER(1));
  g_signal_connect(webrtcbin.get(), "notify::ice-gathering-state", G_CALLBACK(OnGatheringState), GINT_TO_POINTER(static_cast<int>(bytes)));
}

}  // namespace

void InitIceTransports(Napi::Env env, Napi::Object exports) {
  exports.Set("prepareIceTransports", Napi::Function::New<PrepareIceTransports>(env, "prepareIceTransports"));
}
