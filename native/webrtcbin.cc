#include "webrtcbin.h"

#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "addon.h"
#include "args.h"
#include "data_channel.h"
#include "gst_error.h"
#include "object.h"
#include "pipeline.h"
#include "value.h"

namespace {

// --- signal handlers: GStreamer threads; they copy what they need and post it ---

void OnNegotiationNeeded(GstElement*, gpointer data) {
  static_cast<DispatchTarget*>(data)->Post("negotiation-needed", nullptr);
}

void OnIceCandidate(GstElement*, guint mlineIndex, gchar* candidate, gpointer data) {
  static_cast<DispatchTarget*>(data)->Post(
      "ice-candidate", gst_structure_new("candidate", "sdpMLineIndex", G_TYPE_UINT, mlineIndex, "candidate", G_TYPE_STRING, candidate, nullptr));
}

// notify::connection-state and friends: the value is read here, on the thread
// that changed it, so JS sees every transition in order.
void OnStateNotify(GObject* webrtcbin, GParamSpec* spec, gpointer data) {
  GValue value = G_VALUE_INIT;
  g_value_init(&value, spec->value_type);
  g_object_get_property(webrtcbin, spec->name, &value);
  GstStructure* state = gst_structure_new("state", "property", G_TYPE_STRING, spec->name, nullptr);
  gst_structure_take_value(state, "value", &value);
  static_cast<DispatchTarget*>(data)->Post("state", state);
}

// The data channels' ICE transport, watched on its own: webrtcbin 1.22 leaves
// it out of its ice-connection-state (it collates transceivers only), so a
// connection with data channels alone stays "new" there. JS collates it in.
void OnSctpIceStateNotify(GObject* transport, GParamSpec*, gpointer data) {
  GstWebRTCICEConnectionState state = GST_WEBRTC_ICE_CONNECTION_STATE_NEW;
  g_object_get(transport, "state", &state, nullptr);
  static const gpointer states = g_type_class_ref(GST_TYPE_WEBRTC_ICE_CONNECTION_STATE);  // kept for the process
  GEnumValue* nick = g_enum_get_value(G_ENUM_CLASS(states), state);
  static_cast<DispatchTarget*>(data)->Post(
      "state", gst_structure_new("state", "property", G_TYPE_STRING, "sctp-ice-connection-state", "value", G_TYPE_STRING, nick != nullptr ? nick->value_nick : "new", nullptr));
}

// notify::ice-gathering-state: the SCTP transport exists once gathering starts
// (webrtcbin announces no notify::sctp-transport). Runs on webrtcbin's thread
// with its lock released; watches that transport's ICE transport once.
void WatchSctpIceState(GObject* webrtcbin, GParamSpec*, gpointer data) {
  GObject* sctp = nullptr;
  g_object_get(webrtcbin, "sctp-transport", &sctp, nullptr);
  if (sctp == nullptr) return;
  GObject* dtls = nullptr;
  g_object_get(sctp, "transport", &dtls, nullptr);
  g_object_unref(sctp);
  if (dtls == nullptr) return;
  GObject* ice = nullptr;
  g_object_get(dtls, "transport", &ice, nullptr);
  g_object_unref(dtls);
  if (ice == nullptr) return;
  static const GQuark watched = g_quark_from_static_string("gst-webrtc-node-sctp-ice-state");
  if (g_object_get_qdata(ice, watched) == nullptr) {  // this thread is the only one that sets it
    g_object_set_qdata(ice, watched, GINT_TO_POINTER(1));
    auto* target = static_cast<DispatchTarget*>(data);
    g_signal_connect_data(ice, "notify::state", G_CALLBACK(OnSctpIceStateNotify), DispatchTarget::New(target->dispatcher, target->target),
                          DispatchTarget::Free, static_cast<GConnectFlags>(0));
    OnSctpIceStateNotify(ice, nullptr, data);
  }
  g_object_unref(ice);
}

// notify::caps, not a pad probe: a sink pad stores its caps only after its event
// function returns, and webrtcbin asks for negotiation from inside that function.
// A probe would post before JS can see the caps, and JS would wait forever.
void OnSinkCapsNotify(GObject* pad, GParamSpec*, gpointer data) {
  if (!gst_pad_has_current_caps(GST_PAD(pad))) return;  // caps cleared on deactivation
  static_cast<DispatchTarget*>(data)->Post("sink-caps", nullptr);
  g_signal_handlers_disconnect_by_func(pad, reinterpret_cast<gpointer>(OnSinkCapsNotify), data);  // the first caps are what an offer needs
}

// An offer made before a sink pad has caps lacks that pad's m-line, so JS waits for this event.
void WatchSinkCaps(GstPad* pad, const DispatchTarget& target) {
  if (gst_pad_has_current_caps(pad)) return;
  g_signal_connect_data(pad, "notify::caps", G_CALLBACK(OnSinkCapsNotify), DispatchTarget::New(target.dispatcher, target.target),
                        DispatchTarget::Free, static_cast<GConnectFlags>(0));
  if (gst_pad_has_current_caps(pad)) target.Post("sink-caps", nullptr);  // caps arrived while connecting; JS re-checks, so twice is harmless
}

void OnPadAdded(GstElement*, GstPad* pad, gpointer data) {
  auto* target = static_cast<DispatchTarget*>(data);
  if (GST_PAD_DIRECTION(pad) == GST_PAD_SRC) BlockPadUntilLinked(pad, *target, "track");
  else WatchSinkCaps(pad, *target);
}

void OnDataChannel(GstElement* webrtcbin, GObject* channel, gpointer data) {
  auto* target = static_cast<DispatchTarget*>(data);
  uint32_t channelId = WatchDataChannel(webrtcbin, channel, target->dispatcher);
  target->Post("data-channel", gst_structure_new("channel", "channel", G_TYPE_OBJECT, channel, "target", G_TYPE_UINT, channelId, nullptr));
}

// --- GstPromise replies: copied on the GStreamer thread, resolved in JS by id ---

struct PromiseContext {
  DispatchTarget* target;
  uint32_t id;
  static void Free(gpointer data) {
    auto* self = static_cast<PromiseContext*>(data);
    DispatchTarget::Free(self->target);
    delete self;
  }
};

void OnPromiseChanged(GstPromise* promise, gpointer data) {
  auto* context = static_cast<PromiseContext*>(data);
  GstPromiseResult result = gst_promise_wait(promise);  // already settled: returns at once
  const GstStructure* reply = result == GST_PROMISE_RESULT_REPLIED ? gst_promise_get_reply(promise) : nullptr;
  const char* outcome = result == GST_PROMISE_RESULT_REPLIED ? "replied" : result == GST_PROMISE_RESULT_EXPIRED ? "expired" : "interrupted";
  GstStructure* event = gst_structure_new("reply", "id", G_TYPE_UINT, context->id, "result", G_TYPE_STRING, outcome, nullptr);
  if (reply != nullptr) gst_structure_set(event, "reply", GST_TYPE_STRUCTURE, reply, nullptr);
  context->target->Post("reply", event);
}

GstWebRTCSDPType SdpTypeArg(const Napi::Value& value) {
  const std::string type = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (type == "offer") return GST_WEBRTC_SDP_TYPE_OFFER;
  if (type == "answer") return GST_WEBRTC_SDP_TYPE_ANSWER;
  if (type == "pranswer") return GST_WEBRTC_SDP_TYPE_PRANSWER;
  if (type == "rollback") return GST_WEBRTC_SDP_TYPE_ROLLBACK;
  throw Napi::TypeError::New(value.Env(), "description type must be 'offer', 'answer', 'pranswer' or 'rollback'");
}

// webrtcbin refuses create-data-channel, with a CRITICAL, until it has left
// NULL. Its NULL -> READY only starts its own operations thread, and the channel
// must be returned now, so this one state change runs on the JS thread. The
// exception to the rule is bounded: it waits only if the pipeline's control
// thread is changing this webrtcbin's state at that moment (playing a pipeline
// just made).
void LeaveNull(GstElement* webrtcbin) {
  GST_OBJECT_LOCK(webrtcbin);
  const bool inNull = GST_STATE(webrtcbin) == GST_STATE_NULL;
  GST_OBJECT_UNLOCK(webrtcbin);
  if (!inNull) return;
  // The state lock: held by whoever changes the element's state, until done.
  g_rec_mutex_lock(GST_STATE_GET_LOCK(webrtcbin));
  if (GST_STATE(webrtcbin) == GST_STATE_NULL) gst_element_set_state(webrtcbin, GST_STATE_READY);
  g_rec_mutex_unlock(GST_STATE_GET_LOCK(webrtcbin));
}

// --- preparation run on the actions thread, just before the action it precedes ---
// (it takes webrtcbin's lock and pad and element locks: never on the JS thread)

void SetNack(GstWebRTCRTPTransceiver* transceiver) {
  gboolean nack = FALSE;
  g_object_get(transceiver, "do-nack", &nack, nullptr);
  if (!nack) g_object_set(transceiver, "do-nack", TRUE, nullptr);
}

bool CapsMediaIs(GstCaps* caps, const char* media) {
  if (caps == nullptr || gst_caps_is_empty(caps) || gst_caps_is_any(caps)) return false;
  return g_strcmp0(gst_structure_get_string(gst_caps_get_structure(caps, 0), "media"), media) == 0;
}

// Before create-offer / create-answer: NACK and retransmission on every video
// transceiver (lib/core/webrtcbin.ts asks for it: browsers negotiate them). A
// transceiver made for a sink pad stays of kind unknown until negotiated: its
// pad's caps tell.
void EnableVideoNack(GstElement* webrtcbin) {
  GArray* transceivers = nullptr;
  g_signal_emit_by_name(webrtcbin, "get-transceivers", &transceivers);
  for (guint i = 0; transceivers != nullptr && i < transceivers->len; i++) {
    GstWebRTCRTPTransceiver* transceiver = g_array_index(transceivers, GstWebRTCRTPTransceiver*, i);
    GstWebRTCKind kind = GST_WEBRTC_KIND_UNKNOWN;
    g_object_get(transceiver, "kind", &kind, nullptr);
    if (kind == GST_WEBRTC_KIND_VIDEO) SetNack(transceiver);
  }
  if (transceivers != nullptr) g_array_unref(transceivers);
  GstIterator* pads = gst_element_iterate_sink_pads(webrtcbin);
  gst_iterator_foreach(
      pads,
      [](const GValue* value, gpointer) {
        GstPad* pad = GST_PAD(g_value_get_object(value));
        if (g_object_class_find_property(G_OBJECT_GET_CLASS(pad), "transceiver") == nullptr) return;
        GstCaps* caps = gst_pad_get_current_caps(pad);
        GstWebRTCRTPTransceiver* transceiver = nullptr;
        if (CapsMediaIs(caps, "video")) g_object_get(pad, "transceiver", &transceiver, nullptr);
        if (transceiver != nullptr) {
          SetNack(transceiver);
          gst_object_unref(transceiver);
        }
        if (caps != nullptr) gst_caps_unref(caps);
      },
      nullptr);
  gst_iterator_free(pads);
}

// What lib/core/webrtcbin.ts decided a remote offer's m-sections need to be
// received with feedback (see receiversFor there): taken as webrtcbin
// takes them, by mid, else by a transceiver not yet associated of the same kind
// (or of none yet); the others get a receiving transceiver with these caps.
struct Receiver {
  std::string mid;  // empty: none
  std::string caps;
  GstWebRTCKind kind;
};

void PrepareReceivers(GstElement* webrtcbin, const std::vector<Receiver>& receivers) {
  if (receivers.empty()) return;
  std::set<std::string> mids;
  std::vector<GstWebRTCKind> unassociated;  // the kinds of the transceivers without a mid
  GArray* transceivers = nullptr;
  g_signal_emit_by_name(webrtcbin, "get-transceivers", &transceivers);
  for (guint i = 0; transceivers != nullptr && i < transceivers->len; i++) {
    gchar* mid = nullptr;
    GstWebRTCKind kind = GST_WEBRTC_KIND_UNKNOWN;
    g_object_get(g_array_index(transceivers, GstWebRTCRTPTransceiver*, i), "mid", &mid, "kind", &kind, nullptr);
    if (mid != nullptr) mids.insert(mid);
    else unassociated.push_back(kind);
    g_free(mid);
  }
  if (transceivers != nullptr) g_array_unref(transceivers);
  for (const Receiver& receiver : receivers) {
    if (!receiver.mid.empty() && mids.count(receiver.mid) > 0) continue;
    auto taker = std::find_if(unassociated.begin(), unassociated.end(),
                              [&](GstWebRTCKind kind) { return kind == receiver.kind || kind == GST_WEBRTC_KIND_UNKNOWN; });
    if (taker != unassociated.end()) {
      unassociated.erase(taker);
      continue;
    }
    GstCaps* caps = gst_caps_from_string(receiver.caps.c_str());
    if (caps == nullptr) continue;
    GstWebRTCRTPTransceiver* transceiver = nullptr;
    g_signal_emit_by_name(webrtcbin, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &transceiver);
    gst_caps_unref(caps);
    if (transceiver == nullptr) continue;
    if (receiver.kind == GST_WEBRTC_KIND_VIDEO) SetNack(transceiver);
    gst_object_unref(transceiver);
  }
}

std::vector<Receiver> ReceiversArg(const Napi::Value& value) {
  std::vector<Receiver> receivers;
  if (!value.IsArray()) return receivers;
  Napi::Array list = value.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list.Get(i);
    RequireType(value.Env(), item.IsObject(), "receivers: expected objects { mid, caps, kind }");
    Napi::Object receiver = item.As<Napi::Object>();
    Napi::Value mid = receiver.Get("mid");
    const std::string kind = StringArg(receiver.Get("kind"), "receiver kind");
    receivers.push_back(Receiver{mid.IsString() ? mid.As<Napi::String>().Utf8Value() : "", StringArg(receiver.Get("caps"), "receiver caps"),
                                 kind == "video" ? GST_WEBRTC_KIND_VIDEO : kind == "audio" ? GST_WEBRTC_KIND_AUDIO : GST_WEBRTC_KIND_UNKNOWN});
  }
  return receivers;
}

GQuark UnpacedQuark() {
  static GQuark quark = g_quark_from_static_string("gst-webrtc-node-unpaced");
  return quark;
}

// webrtcbin 1.22 paces each input with a clocksync that syncs to the clock; for
// a live source (a latency query upstream says so) that only delays every
// buffer by the pipeline latency. Its `sync` goes off once per clocksync (its
// lock is held while it waits for the clock).
void UnpaceLiveInputs(GstElement* webrtcbin) {
  GstIterator* pads = gst_element_iterate_sink_pads(webrtcbin);
  gst_iterator_foreach(
      pads,
      [](const GValue* value, gpointer) {
        GstPad* pad = GST_PAD(g_value_get_object(value));
        GstPad* target = GST_IS_GHOST_PAD(pad) ? gst_ghost_pad_get_target(GST_GHOST_PAD(pad)) : nullptr;
        GstElement* inner = target != nullptr ? gst_pad_get_parent_element(target) : nullptr;
        GstElementFactory* factory = inner != nullptr ? gst_element_get_factory(inner) : nullptr;
        if (factory != nullptr && g_strcmp0(GST_OBJECT_NAME(factory), "clocksync") == 0 && g_object_get_qdata(G_OBJECT(inner), UnpacedQuark()) == nullptr) {
          GstQuery* query = gst_query_new_latency();
          gboolean live = FALSE;
          if (gst_pad_peer_query(pad, query)) gst_query_parse_latency(query, &live, nullptr, nullptr);
          gst_query_unref(query);
          if (live) {
            g_object_set_qdata(G_OBJECT(inner), UnpacedQuark(), GINT_TO_POINTER(1));
            g_object_set(inner, "sync", FALSE, nullptr);
          }
        }
        if (inner != nullptr) gst_object_unref(inner);
        if (target != nullptr) gst_object_unref(target);
      },
      nullptr);
  gst_iterator_free(pads);
}


}  // namespace

// The handlers of a webrtcbin that was still being created when JS attached:
// connected on the control thread, disconnected on the actions thread after the
// pipeline barrier (so after they were connected). Never touched by JS.
struct NativeWebRtcBin::Attachment {
  SharedObject element;
  std::vector<gulong> handlers;

  void Attach(SharedObject created, const DispatchTarget& target) {
    if (created == nullptr || g_strcmp0(G_OBJECT_TYPE_NAME(created.get()), "GstWebRTCBin") != 0) return;  // creation failed
    element = std::move(created);
    for (int i = 0; i < kSignalCount; i++)
      handlers.push_back(g_signal_connect_data(element.get(), Signals()[i].signal, Signals()[i].callback,
                                               DispatchTarget::New(target.dispatcher, target.target), DispatchTarget::Free,
                                               static_cast<GConnectFlags>(0)));
  }

  void Detach() {
    for (gulong handler : handlers) g_signal_handler_disconnect(element.get(), handler);
    handlers.clear();
    element = nullptr;  // if this is the last reference, finalizing joins webrtcbin's threads: here, not on JS's
  }

  // Every signal NativeWebRtcBin forwards (see the handlers above). A plain
  // array, nothing to destroy at exit: a thread left behind at process exit (a
  // stuck webrtcbin) may still read it while static destructors run.
  struct Handler {
    const char* signal;
    GCallback callback;
  };
  static constexpr int kSignalCount = 9;
  static const Handler* Signals() {
    static const Handler signals[kSignalCount] = {
        {"on-negotiation-needed", G_CALLBACK(OnNegotiationNeeded)},
        {"on-ice-candidate", G_CALLBACK(OnIceCandidate)},
        {"notify::connection-state", G_CALLBACK(OnStateNotify)},
        {"notify::ice-connection-state", G_CALLBACK(OnStateNotify)},
        {"notify::ice-gathering-state", G_CALLBACK(OnStateNotify)},
        {"notify::signaling-state", G_CALLBACK(OnStateNotify)},
        {"notify::ice-gathering-state", G_CALLBACK(WatchSctpIceState)},
        {"pad-added", G_CALLBACK(OnPadAdded)},
        {"on-data-channel", G_CALLBACK(OnDataChannel)},
    };
    return signals;
  }
};

// Passed once the pipeline's control thread has run everything queued on it
// before: an action waits for it, so it sees the pipeline as the calls made
// before it left it (started, linked), as if both ran on one thread.
struct NativeWebRtcBin::Barrier {
  std::mutex mutex;
  std::condition_variable passed;
  bool open = false;
  void Pass() {
    std::lock_guard<std::mutex> lock(mutex);
    open = true;
    passed.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mutex);
    passed.wait(lock, [this] { return open; });
  }
};

std::shared_ptr<NativeWebRtcBin::Barrier> NativeWebRtcBin::PipelineBarrier() const {
  auto barrier = std::make_shared<Barrier>();
  // Nothing queued or running there (the common case once a pipeline runs): nothing to wait for, no thread to wake.
  if (control_->Idle() || !control_->Post([barrier] { barrier->Pass(); })) barrier->Pass();  // or its thread has ended
  return barrier;
}

void NativeWebRtcBin::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = DefineClass(env, "NativeWebRtcBin",
                                           {
                                               InstanceAccessor<&NativeWebRtcBin::Id>("id", kAccessor),
                                               InstanceMethod<&NativeWebRtcBin::CreateOffer>("createOffer", kMethod),
                                               InstanceMethod<&NativeWebRtcBin::CreateAnswer>("createAnswer", kMethod),
                                               InstanceMethod<&NativeWebRtcBin::SetLocalDescription>("setLocalDescription", kMethod),
                                               InstanceMethod<&NativeWebRtcBin::SetRemoteDescription>("setRemoteDescription", kMethod),
                                               InstanceMethod<&NativeWebRtcBin::AddIceCandidate>("addIceCandidate", kMethod),
                                               InstanceMethod<&NativeWebRtcBin::GetStats>("getStats", kMethod),
                                               InstanceMethod<&NativeWebRtcBin::AddTransceiver>("addTransceiver", kMethod),
                                               InstanceMethod<&NativeWebRtcBin::GetTransceivers>("getTransceivers", kMethod),
                                               InstanceMethod<&NativeWebRtcBin::AddTurnServer>("addTurnServer", kMethod),
                                               InstanceMethod<&NativeWebRtcBin::PendingSinkCaps>("pendingSinkCaps", kMethod),
                                               InstanceMethod<&NativeWebRtcBin::SinkPads>("sinkPads", kMethod),
                                               InstanceMethod<&NativeWebRtcBin::UpstreamLive>("upstreamLive", kMethod),
                                               InstanceMethod<&NativeWebRtcBin::UnpaceLiveInputsLater>("unpaceLiveInputs", kMethod),
                                               InstanceMethod<&NativeWebRtcBin::CreateDataChannel>("createDataChannel", kMethod),
                                               InstanceMethod<&NativeWebRtcBin::Close>("close", kMethod),
                                           });
  AddonData::Of(env)->webRtcBinConstructor = Napi::Persistent(constructor);
  exports.Set("NativeWebRtcBin", constructor);
}

NativeWebRtcBin::NativeWebRtcBin(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeWebRtcBin>(info) {
  Napi::Env env = info.Env();
  NativePipeline* pipeline = NativePipeline::From(info[0]);
  if (pipeline->dispatcher() == nullptr) throw MakeGstError(env, "the pipeline is closed", ErrorCode::Closed);
  ObjectFuture element = NativeObject::Future(info[1], "NativeWebRtcBin");
  RequireType(env, element.slot != nullptr || g_strcmp0(G_OBJECT_TYPE_NAME(element.ready.get()), "GstWebRTCBin") == 0, "expected a webrtcbin element");

  control_ = pipeline->control();
  actions_ = ControlThread::Start("gst-node-rtc", AddonData::Of(env)->threads);
  id_ = pipeline->dispatcher()->NewTargetId();
  target_ = DispatchTarget::New(pipeline->dispatcher(), id_);
  if (element.slot != nullptr) {
    // Being created on the control thread: connect there, right after, before
    // anything queued later (its start) can make it signal.
    pending_ = element.slot;
    attachment_ = std::make_shared<Attachment>();
    std::shared_ptr<Attachment> attachment = attachment_;
    auto target = std::shared_ptr<DispatchTarget>(DispatchTarget::New(target_->dispatcher, target_->target), DispatchTarget::FreeNotify);
    // The JS thread, should it need the element before then, waits for this too (see Element()).
    attached_ = std::make_shared<Barrier>();
    std::shared_ptr<Barrier> attached = attached_;
    if (!control_->Post([attachment, element, target, attached] {
          attachment->Attach(element.Get(), *target);
          attached->Pass();
        }))
      attached_->Pass();
    return;
  }
  webrtcbin_ = GST_ELEMENT(g_object_ref(element.ready.get()));
  for (int i = 0; i < Attachment::kSignalCount; i++) Connect(Attachment::Signals()[i].signal, Attachment::Signals()[i].callback);
  // Sink pads requested before we attached (a pipeline description that links into webrtcbin).
  GstIterator* pads = gst_element_iterate_sink_pads(webrtcbin_);
  gst_iterator_foreach(
      pads, [](const GValue* pad, gpointer self) { WatchSinkCaps(GST_PAD(g_value_get_object(pad)), *static_cast<NativeWebRtcBin*>(self)->target_); },
      this);
  gst_iterator_free(pads);
}

// pendingSinkCaps() -> how many linked sink pads have no caps yet.
Napi::Value NativeWebRtcBin::PendingSinkCaps(const Napi::CallbackInfo& info) {
  int pending = 0;
  GstIterator* pads = gst_element_iterate_sink_pads(Element(info.Env()));
  gst_iterator_foreach(
      pads,
      [](const GValue* value, gpointer count) {
        GstPad* pad = GST_PAD(g_value_get_object(value));
        if (gst_pad_is_linked(pad) && !gst_pad_has_current_caps(pad)) ++*static_cast<int*>(count);
      },
      &pending);
  gst_iterator_free(pads);
  return Napi::Number::New(info.Env(), pending);
}

// sinkPads() -> [{ pad, peer, inner }]: the sink pads, each with the src pad linked
// to it and the element inside webrtcbin it feeds (or null).
Napi::Value NativeWebRtcBin::SinkPads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array result = Napi::Array::New(env);
  GstIterator* pads = gst_element_iterate_sink_pads(Element(env));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(pads, &item) == GST_ITERATOR_OK) {
    GstPad* pad = GST_PAD(g_value_get_object(&item));
    GstPad* peer = gst_pad_get_peer(pad);
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("pad", NativeObject::New(env, G_OBJECT(pad)));
    entry.Set("peer", peer != nullptr ? Napi::Value(NativeObject::New(env, G_OBJECT(peer))) : env.Null());
    // The element inside webrtcbin that the pad feeds (1.22: a clocksync per input).
    GstPad* target = GST_IS_GHOST_PAD(pad) ? gst_ghost_pad_get_target(GST_GHOST_PAD(pad)) : nullptr;
    GstElement* inner = target != nullptr ? gst_pad_get_parent_element(target) : nullptr;
    entry.Set("inner", inner != nullptr ? Napi::Value(NativeObject::New(env, G_OBJECT(inner))) : env.Null());
    if (inner != nullptr) gst_object_unref(inner);
    if (target != nullptr) gst_object_unref(target);
    if (peer != nullptr) gst_object_unref(peer);
    result.Set(result.Length(), entry);
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(pads);
  return result;
}

// upstreamLive(pad) -> whether what is linked to this sink pad is live (a
// latency query upstream), or null when nothing upstream answers.
Napi::Value NativeWebRtcBin::UpstreamLive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  ObjectRef padRef = NativeObject::From(info[0]);
  RequireType(env, padRef != nullptr && GST_IS_PAD(padRef.get()), "upstreamLive: expected a pad");
  GstQuery* query = gst_query_new_latency();
  Napi::Value result = env.Null();
  if (gst_pad_peer_query(GST_PAD(padRef.get()), query)) {
    gboolean live = FALSE;
    gst_query_parse_latency(query, &live, nullptr, nullptr);
    result = Napi::Boolean::New(env, live);
  }
  gst_query_unref(query);
  return result;
}

NativeWebRtcBin::~NativeWebRtcBin() { Release(); }

// Disconnects our handlers and drops our reference, so closing the pipeline frees
// the element. The reference is dropped on the control thread: if it is the last
// one, finalizing webrtcbin joins its threads.
void NativeWebRtcBin::Release() {
  if (released_) return;
  released_ = true;
  DispatchTarget::Free(target_);
  target_ = nullptr;
  GstElement* webrtcbin = webrtcbin_;
  webrtcbin_ = nullptr;
  pending_ = nullptr;
  std::shared_ptr<Attachment> attachment = std::move(attachment_);
  // Handlers connected on the control thread are disconnected once it has connected them.
  std::shared_ptr<Barrier> connected = attachment != nullptr ? PipelineBarrier() : nullptr;
  // Disconnecting takes GLib's signal lock, which every streaming thread emitting
  // a signal takes too: done on the actions thread. Events posted meanwhile go
  // to a target JS has unsubscribed, and are dropped there.
  std::vector<gulong> handlers = std::move(handlers_);
  handlers_.clear();
  auto release = [webrtcbin, handlers, attachment, connected] {
    if (connected != nullptr) connected->Wait();
    if (attachment != nullptr) attachment->Detach();
    if (webrtcbin == nullptr) return;
    for (gulong handler : handlers) g_signal_handler_disconnect(webrtcbin, handler);
    gst_object_unref(webrtcbin);
  };
  if (!actions_->Post(release)) release();
  actions_->Finish();
}

void NativeWebRtcBin::Connect(const char* signal, GCallback callback) {
  // Each handler owns its own DispatchTarget copy, freed when the handler is disconnected.
  handlers_.push_back(g_signal_connect_data(webrtcbin_, signal, callback, DispatchTarget::New(target_->dispatcher, target_->target),
                                            DispatchTarget::Free, static_cast<GConnectFlags>(0)));
}

void NativeWebRtcBin::RequireOpen(Napi::Env env) const {
  if (released_) throw MakeGstError(env, "the webrtcbin is closed", ErrorCode::Closed);
}

GstElement* NativeWebRtcBin::Element(Napi::Env env) {
  RequireOpen(env);
  if (webrtcbin_ == nullptr && pending_ != nullptr) {
    // A synchronous call before the control thread has made the element: wait for it (documented in docs/threads.md).
    GError* error = nullptr;
    ObjectRef created = pending_->Wait(&error);
    if (error != nullptr) {
      Napi::Error jsError = MakeGstError(env, error);
      g_error_free(error);
      throw jsError;
    }
    if (created == nullptr) throw MakeGstError(env, "the webrtcbin no longer exists", ErrorCode::Closed);
    // And for our handlers: what JS does with it now (create a data channel) makes it signal.
    attached_->Wait();
    webrtcbin_ = GST_ELEMENT(created.release());
    pending_ = nullptr;
  }
  return webrtcbin_;
}

ObjectFuture NativeWebRtcBin::ElementFuture() const {
  if (webrtcbin_ != nullptr) return ObjectFuture{ShareNew(webrtcbin_), nullptr};
  return ObjectFuture{nullptr, pending_};
}

Napi::Value NativeWebRtcBin::Id(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), id_); }

GstPromise* NativeWebRtcBin::NewPromise(const Napi::Value& id) const {
  RequireType(id.Env(), id.IsNumber(), "promise id must be a number");
  auto* context = new PromiseContext{DispatchTarget::New(target_->dispatcher, target_->target), id.As<Napi::Number>().Uint32Value()};
  return gst_promise_new_with_change_func(OnPromiseChanged, context, PromiseContext::Free);
}

void NativeWebRtcBin::EmitWithPromise(Napi::Env env, const Napi::Value& id, std::function<void(GstElement*, GstPromise*)> emit) {
  RequireOpen(env);
  GstPromise* promise = NewPromise(id);
  ObjectFuture element = ElementFuture();
  // Not run (the pipeline's control thread has ended): the promise goes away
  // unanswered, and JS has rejected it already, having closed the pipeline.
  std::shared_ptr<GstPromise> owned(promise, gst_promise_unref);
  std::shared_ptr<Barrier> queuedBefore = PipelineBarrier();
  if (!actions_->Post([element, owned, emit, queuedBefore] {
        queuedBefore->Wait();  // also after the element's creation, when it was still being made
        SharedObject webrtcbin = element.Get();
        if (webrtcbin == nullptr) gst_promise_expire(owned.get());  // its creation failed: the operation is answered "expired"
        else emit(GST_ELEMENT(webrtcbin.get()), owned.get());
      }))
    throw MakeGstError(env, "the pipeline is closed", ErrorCode::Closed);
}

// createOffer(promiseId, { videoNack? }) / createAnswer(...): `videoNack` first
// turns NACK/RTX on for every video transceiver, on the actions thread.
void NativeWebRtcBin::CreateOffer(const Napi::CallbackInfo& info) {
  const bool videoNack = info[1].IsObject() && info[1].As<Napi::Object>().Get("videoNack").ToBoolean().Value();
  EmitWithPromise(info.Env(), info[0], [videoNack](GstElement* webrtcbin, GstPromise* promise) {
    if (videoNack) EnableVideoNack(webrtcbin);
    g_signal_emit_by_name(webrtcbin, "create-offer", nullptr, promise);
  });
}

void NativeWebRtcBin::CreateAnswer(const Napi::CallbackInfo& info) {
  const bool videoNack = info[1].IsObject() && info[1].As<Napi::Object>().Get("videoNack").ToBoolean().Value();
  EmitWithPromise(info.Env(), info[0], [videoNack](GstElement* webrtcbin, GstPromise* promise) {
    if (videoNack) EnableVideoNack(webrtcbin);
    g_signal_emit_by_name(webrtcbin, "create-answer", nullptr, promise);
  });
}

// unpaceLiveInputs(): see UnpaceLiveInputs; queued on the actions thread, no reply.
// At most one is queued at a time (a burst of sink-caps and descriptions needs
// one pass after them); it need not wait for the pipeline's control thread, but
// a pending element is waited for.
void NativeWebRtcBin::UnpaceLiveInputsLater(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  if (unpaceQueued_->exchange(true)) return;
  ObjectFuture element = ElementFuture();
  std::shared_ptr<std::atomic<bool>> queued = unpaceQueued_;
  std::shared_ptr<Barrier> created = element.slot != nullptr ? PipelineBarrier() : nullptr;
  const bool posted = actions_->Post([element, queued, created] {
    queued->store(false);
    if (created != nullptr) created->Wait();
    SharedObject webrtcbin = element.Get();
    if (webrtcbin != nullptr) UnpaceLiveInputs(GST_ELEMENT(webrtcbin.get()));
  });
  if (!posted) unpaceQueued_->store(false);
}

// setXDescription(promiseId, type, sdp): parsed and applied on the actions
// thread; SDP that does not parse rejects the promise (SdpUnparsable).
void NativeWebRtcBin::SetDescription(const Napi::CallbackInfo& info, const char* signal) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  GstWebRTCSDPType type = SdpTypeArg(info[1]);
  RequireType(env, info[2].IsString(), "sdp must be a string");
  const std::string text = info[2].As<Napi::String>().Utf8Value();
  const std::string name = signal;
  // setRemoteDescription's 4th argument: the receiving transceivers a remote offer needs (PrepareReceivers).
  std::vector<Receiver> receivers = name == "set-remote-description" ? ReceiversArg(info[3]) : std::vector<Receiver>();
  EmitWithPromise(env, info[0], [type, text, name, receivers](GstElement* webrtcbin, GstPromise* promise) {
    // Parsed here, not on the JS thread (a long SDP takes milliseconds); SDP that
    // does not parse is the promise's error (SdpUnparsable), before webrtcbin sees anything.
    GstSDPMessage* sdp = nullptr;
    gst_sdp_message_new(&sdp);
    if (gst_sdp_message_parse_buffer(reinterpret_cast<const guint8*>(text.data()), text.size(), sdp) != GST_SDP_OK) {
      gst_sdp_message_free(sdp);
      GError* error = NewGError(ErrorCode::SdpUnparsable, "the SDP could not be parsed");
      gst_promise_reply(promise, gst_structure_new("reply", "error", G_TYPE_ERROR, error, nullptr));
      g_error_free(error);
      return;
    }
    GstWebRTCSessionDescription* description = gst_webrtc_session_description_new(type, sdp);
    PrepareReceivers(webrtcbin, receivers);
    g_signal_emit_by_name(webrtcbin, name.c_str(), description, promise);
    gst_webrtc_session_description_free(description);
  });
}

void NativeWebRtcBin::SetLocalDescription(const Napi::CallbackInfo& info) { SetDescription(info, "set-local-description"); }

void NativeWebRtcBin::SetRemoteDescription(const Napi::CallbackInfo& info) { SetDescription(info, "set-remote-description"); }

// addIceCandidate(promiseId, mlineIndex, candidate) -> true: a reply always
// follows. GStreamer >= 1.24 answers through add-ice-candidate-full's promise;
// 1.22's add-ice-candidate has none, so the control thread replies once the
// signal has returned (webrtcbin has queued the candidate by then).
namespace {

// Whether webrtcbin has add-ice-candidate-full (GStreamer 1.24), looked up once:
// g_signal_lookup takes GLib's process-wide signal lock, which every signal
// emission on every streaming thread takes too, and under load the JS thread
// waited up to 71 ms for it here (figure 5).
bool HasAddIceCandidateFull() {
  static std::atomic<int> known{-1};
  int value = known.load(std::memory_order_relaxed);
  if (value >= 0) return value == 1;
  const GType type = g_type_from_name("GstWebRTCBin");  // registered once a webrtcbin was made (ours may still be in the making)
  if (type == 0) return false;
  value = g_signal_lookup("add-ice-candidate-full", type) != 0 ? 1 : 0;
  known.store(value, std::memory_order_relaxed);
  return value == 1;
}

}  // namespace

Napi::Value NativeWebRtcBin::AddIceCandidate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  RequireType(env, info[0].IsNumber(), "promise id must be a number");
  RequireType(env, info[1].IsNumber(), "sdpMLineIndex must be a number");
  RequireType(env, info[2].IsString(), "candidate must be a string");
  const guint mline = info[1].As<Napi::Number>().Uint32Value();
  const std::string candidate = info[2].As<Napi::String>().Utf8Value();
  if (HasAddIceCandidateFull()) {
    EmitWithPromise(env, info[0], [mline, candidate](GstElement* webrtcbin, GstPromise* promise) {
      g_signal_emit_by_name(webrtcbin, "add-ice-candidate-full", mline, candidate.c_str(), promise);
    });
    return Napi::Boolean::New(env, true);
  }
  const uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  ObjectFuture element = ElementFuture();
  auto target = std::shared_ptr<DispatchTarget>(DispatchTarget::New(target_->dispatcher, target_->target), DispatchTarget::FreeNotify);
  std::shared_ptr<Barrier> queuedBefore = PipelineBarrier();
  if (!actions_->Post([element, mline, candidate, target, id, queuedBefore] {
        queuedBefore->Wait();
        SharedObject webrtcbin = element.Get();
        if (webrtcbin != nullptr) g_signal_emit_by_name(webrtcbin.get(), "add-ice-candidate", mline, candidate.c_str());
        target->Post("reply", gst_structure_new("reply", "id", G_TYPE_UINT, id, "result", G_TYPE_STRING, webrtcbin != nullptr ? "replied" : "expired", nullptr));
      }))
    throw MakeGstError(env, "the pipeline is closed", ErrorCode::Closed);
  return Napi::Boolean::New(env, true);
}

void NativeWebRtcBin::GetStats(const Napi::CallbackInfo& info) {
  EmitWithPromise(info.Env(), info[0], [](GstElement* webrtcbin, GstPromise* promise) {
    g_signal_emit_by_name(webrtcbin, "get-stats", nullptr, promise);
  });
}

// addTransceiver(direction, caps | null) -> NativeObject
Napi::Value NativeWebRtcBin::AddTransceiver(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  GValue direction = G_VALUE_INIT;
  g_value_init(&direction, GST_TYPE_WEBRTC_RTP_TRANSCEIVER_DIRECTION);
  JsToGValue(info[0], &direction, "direction");
  GstCaps* caps = nullptr;
  if (info[1].IsString()) {
    caps = gst_caps_from_string(info[1].As<Napi::String>().Utf8Value().c_str());
    if (caps == nullptr) throw Napi::TypeError::New(env, "not valid caps: " + info[1].As<Napi::String>().Utf8Value());
  }
  GstWebRTCRTPTransceiver* transceiver = nullptr;
  const gint directionValue = g_value_get_enum(&direction);
  g_value_unset(&direction);
  g_signal_emit_by_name(Element(env), "add-transceiver", directionValue, caps, &transceiver);
  if (caps != nullptr) gst_caps_unref(caps);
  if (transceiver == nullptr) throw MakeGstError(env, "webrtcbin refused the transceiver", ErrorCode::TransceiverRefused);
  Napi::Object result = NativeObject::New(env, G_OBJECT(transceiver));
  gst_object_unref(transceiver);
  return result;
}

Napi::Value NativeWebRtcBin::GetTransceivers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  GArray* transceivers = nullptr;
  g_signal_emit_by_name(Element(env), "get-transceivers", &transceivers);
  Napi::Array result = Napi::Array::New(env);
  for (guint i = 0; transceivers != nullptr && i < transceivers->len; i++)
    result.Set(i, NativeObject::New(env, G_OBJECT(g_array_index(transceivers, GstWebRTCRTPTransceiver*, i))));
  if (transceivers != nullptr) g_array_unref(transceivers);
  return result;
}

// addTurnServer(uri) -> whether webrtcbin accepted it (webrtcbin's turn-server property holds only one).
Napi::Value NativeWebRtcBin::AddTurnServer(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  RequireType(info.Env(), info[0].IsString(), "uri must be a string");
  gboolean accepted = FALSE;
  g_signal_emit_by_name(Element(info.Env()), "add-turn-server", info[0].As<Napi::String>().Utf8Value().c_str(), &accepted);
  return Napi::Boolean::New(info.Env(), accepted);
}

// createDataChannel(label, options: object) -> { channel: NativeObject, target: number }
Napi::Value NativeWebRtcBin::CreateDataChannel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  RequireType(env, info[0].IsString(), "label must be a string");
  GValue options = G_VALUE_INIT;
  g_value_init(&options, GST_TYPE_STRUCTURE);
  JsToGValue(info[1].IsObject() ? info[1] : Napi::Object::New(env), &options, "options");
  GstStructure* structure = gst_structure_copy(static_cast<const GstStructure*>(g_value_get_boxed(&options)));
  g_value_unset(&options);
  gst_structure_set_name(structure, "application/data-channel");
  GstElement* webrtcbin = Element(env);
  LeaveNull(webrtcbin);
  GObject* channel = nullptr;
  g_signal_emit_by_name(webrtcbin, "create-data-channel", info[0].As<Napi::String>().Utf8Value().c_str(), structure, &channel);
  gst_structure_free(structure);
  if (channel == nullptr) throw MakeGstError(env, "webrtcbin refused the data channel (is the id in use, or the pipeline not started?)", ErrorCode::DataChannelRefused);
  Napi::Object result = Napi::Object::New(env);
  result.Set("target", WatchDataChannel(webrtcbin, channel, target_->dispatcher));
  result.Set("channel", NativeObject::New(env, channel));
  g_object_unref(channel);
  return result;
}

void NativeWebRtcBin::Close(const Napi::CallbackInfo&) { Release(); }
