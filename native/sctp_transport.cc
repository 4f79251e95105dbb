// prepareSctpTransport(webrtcbin, sendWindowBytes): prepares the SCTP encoder
// and decoder of a webrtcbin's SCTP transport as webrtcbin adds them (when a
// description with an application m-section is applied):
// - one usrsctp association id per webrtcbin (see AssociationIds);
// - the send window capped at `sendWindowBytes` (see sctp_send_window.cc).
//
// The work runs on the thread that adds them (webrtcbin's own), before they
// start. On the JS thread this takes no lock of webrtcbin's own (PC_LOCK);
// listing the children already there takes the bin's object lock for a moment.
#include "sctp_transport.h"

#include <gst/gst.h>

#include <mutex>
#include <set>

#include "object.h"
#include "sctp_send_window.h"

namespace {

// SCTP association ids. GStreamer 1.22's SCTP elements find their usrsctp
// association in a process-wide table by `sctp-association-id`, and webrtcbin
// draws that id at random from 0-65534 (webrtcsctptransport.c). Two webrtcbins
// of one process that draw the same id share one association: their SCTP never
// forms, so their connections reach 'connected' and no data channel ever opens
// (issue 10 case 9: 20 pairs at once in one process). So every webrtcbin we
// wrap gets an id no other live one of ours has, set on its SCTP encoder and
// decoder as webrtcbin adds them (they stay in NULL, locked, until DTLS is up,
// and take the id only then). The id is given back when the webrtcbin goes.
class AssociationIds {
 public:
  static AssociationIds& Instance() {
    static AssociationIds* ids = new AssociationIds();  // never destroyed: finalizers may run at exit
    return *ids;
  }
  guint Take() {
    std::lock_guard<std::mutex> lock(mutex_);
    // 1-65534: webrtcbin's own range. Held ids are few; the search is short.
    do next_ = next_ % 65534 + 1;
    while (held_.count(next_) != 0);
    held_.insert(next_);
    return next_;
  }
  void Give(guint id) {
    std::lock_guard<std::mutex> lock(mutex_);
    held_.erase(id);
  }

 private:
  std::mutex mutex_;
  std::set<guint> held_;
  guint next_ = 0;
};

GQuark AssociationQuark() {
  static GQuark quark = g_quark_from_static_string("gst-webrtc-node-sctp-association-id");
  return quark;
}

void GiveAssociationId(gpointer id) { AssociationIds::Instance().Give(GPOINTER_TO_UINT(id)); }

// webrtcbin's element-added, on the thread that adds (webrtcbin's own); `cap`: the send window.
void OnWebRtcBinChildAdded(GstBin* webrtcbin, GstElement* child, gpointer cap) {
  GstElementFactory* factory = gst_element_get_factory(child);
  const char* name = factory != nullptr ? GST_OBJECT_NAME(factory) : nullptr;
  if (g_strcmp0(name, "sctpenc") != 0 && g_strcmp0(name, "sctpdec") != 0) return;
  // A webrtcbin has one SCTP transport: the encoder and the decoder share its id.
  GST_OBJECT_LOCK(webrtcbin);
  guint id = GPOINTER_TO_UINT(g_object_get_qdata(G_OBJECT(webrtcbin), AssociationQuark()));
  if (id == 0) {
    id = AssociationIds::Instance().Take();
    g_object_set_qdata_full(G_OBJECT(webrtcbin), AssociationQuark(), GUINT_TO_POINTER(id), GiveAssociationId);
  }
  GST_OBJECT_UNLOCK(webrtcbin);
  g_object_set(child, "sctp-association-id", id, nullptr);
  // The decoder takes in the peer's SACKs: the send window is capped there.
  if (g_strcmp0(name, "sctpdec") == 0) CapSctpSendWindow(child, GPOINTER_TO_UINT(cap));
}

// prepareSctpTransport(webrtcbin, sendWindowBytes): connects the handler once per
// webrtcbin (later calls change nothing), and prepares the SCTP elements already
// there (a description applied before this call).
void PrepareSctpTransport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ObjectRef webrtcbin = NativeObject::From(info[0]);
  if (webrtcbin == nullptr || !GST_IS_BIN(webrtcbin.get())) throw Napi::TypeError::New(env, "expected a webrtcbin");
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "sendWindowBytes must be a number");
  const int64_t window = info[1].As<Napi::Number>().Int64Value();
  if (window < 1 || window > G_MAXINT32) throw Napi::TypeError::New(env, "sendWindowBytes must be a positive int32");
  static GQuark prepared = g_quark_from_static_string("gst-webrtc-node-sctp-transport");
  if (g_object_get_qdata(webrtcbin.get(), prepared) != nullptr) return;
  g_object_set_qdata(webrtcbin.get(), prepared, GINT_TO_POINTER(1));
  gpointer cap = GUINT_TO_POINTER(static_cast<guint>(window));
  g_signal_connect(webrtcbin.get(), "element-added", G_CALLBACK(OnWebRtcBinChildAdded), cap);
  GstIterator* children = gst_bin_iterate_elements(GST_BIN(webrtcbin.get()));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(children, &item) == GST_ITERATOR_OK) {
    OnWebRtcBinChildAdded(GST_BIN(webrtcbin.get()), GST_ELEMENT(g_value_get_object(&item)), cap);
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(children);
}

}  // namespace

void InitSctpTransport(Napi::Env env, Napi::Object exports) {
  exports.Set("prepareSctpTransport", Napi::Function::New<PrepareSctpTransport>(env, "prepareSctpTransport"));
}
