#include "webrtcbin.h"

#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <string>

#include "addon.h"
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

void OnDataChannel(GstElement*, GObject* channel, gpointer data) {
  auto* target = static_cast<DispatchTarget*>(data);
  uint32_t channelId = WatchDataChannel(channel, target->dispatcher);
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

}  // namespace

void NativeWebRtcBin::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = DefineClass(env, "NativeWebRtcBin",
                                           {
                                               InstanceAccessor<&NativeWebRtcBin::Id>("id"),
                                               InstanceMethod<&NativeWebRtcBin::CreateOffer>("createOffer"),
                                               InstanceMethod<&NativeWebRtcBin::CreateAnswer>("createAnswer"),
                                               InstanceMethod<&NativeWebRtcBin::SetLocalDescription>("setLocalDescription"),
                                               InstanceMethod<&NativeWebRtcBin::SetRemoteDescription>("setRemoteDescription"),
                                               InstanceMethod<&NativeWebRtcBin::AddIceCandidate>("addIceCandidate"),
                                               InstanceMethod<&NativeWebRtcBin::GetStats>("getStats"),
                                               InstanceMethod<&NativeWebRtcBin::AddTransceiver>("addTransceiver"),
                                               InstanceMethod<&NativeWebRtcBin::GetTransceivers>("getTransceivers"),
                                               InstanceMethod<&NativeWebRtcBin::AddTurnServer>("addTurnServer"),
                                               InstanceMethod<&NativeWebRtcBin::PendingSinkCaps>("pendingSinkCaps"),
                                               InstanceMethod<&NativeWebRtcBin::SinkPads>("sinkPads"),
                                               InstanceMethod<&NativeWebRtcBin::UpstreamLive>("upstreamLive"),
                                               InstanceMethod<&NativeWebRtcBin::CreateDataChannel>("createDataChannel"),
                                               InstanceMethod<&NativeWebRtcBin::Close>("close"),
                                           });
  AddonData::Of(env)->webRtcBinConstructor = Napi::Persistent(constructor);
  exports.Set("NativeWebRtcBin", constructor);
}

NativeWebRtcBin::NativeWebRtcBin(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeWebRtcBin>(info) {
  Napi::Env env = info.Env();
  NativePipeline* pipeline = NativePipeline::From(info[0]);
  if (pipeline->dispatcher() == nullptr) throw MakeGstError(env, "the pipeline is closed", "gst-webrtc-node", 1);
  ObjectRef element = NativeObject::From(info[1]);
  RequireType(env, element != nullptr && g_strcmp0(G_OBJECT_TYPE_NAME(element.get()), "GstWebRTCBin") == 0, "expected a webrtcbin element");

  webrtcbin_ = GST_ELEMENT(element.release());
  id_ = pipeline->dispatcher()->NewTargetId();
  target_ = DispatchTarget::New(pipeline->dispatcher(), id_);
  Connect("on-negotiation-needed", G_CALLBACK(OnNegotiationNeeded));
  Connect("on-ice-candidate", G_CALLBACK(OnIceCandidate));
  Connect("notify::connection-state", G_CALLBACK(OnStateNotify));
  Connect("notify::ice-connection-state", G_CALLBACK(OnStateNotify));
  Connect("notify::ice-gathering-state", G_CALLBACK(OnStateNotify));
  Connect("notify::signaling-state", G_CALLBACK(OnStateNotify));
  Connect("pad-added", G_CALLBACK(OnPadAdded));
  Connect("on-data-channel", G_CALLBACK(OnDataChannel));
  // Sink pads requested before we attached (a pipeline description that links into webrtcbin).
  GstIterator* pads = gst_element_iterate_sink_pads(webrtcbin_);
  gst_iterator_foreach(
      pads, [](const GValue* pad, gpointer self) { WatchSinkCaps(GST_PAD(g_value_get_object(pad)), *static_cast<NativeWebRtcBin*>(self)->target_); },
      this);
  gst_iterator_free(pads);
}

// pendingSinkCaps() -> how many linked sink pads have no caps yet.
Napi::Value NativeWebRtcBin::PendingSinkCaps(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  int pending = 0;
  GstIterator* pads = gst_element_iterate_sink_pads(webrtcbin_);
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
  RequireOpen(env);
  Napi::Array result = Napi::Array::New(env);
  GstIterator* pads = gst_element_iterate_sink_pads(webrtcbin_);
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

// Disconnects our handlers and drops our reference, so closing the pipeline frees the element.
void NativeWebRtcBin::Release() {
  if (webrtcbin_ == nullptr) return;
  Disconnect();
  DispatchTarget::Free(target_);
  target_ = nullptr;
  gst_object_unref(webrtcbin_);
  webrtcbin_ = nullptr;
}

void NativeWebRtcBin::Connect(const char* signal, GCallback callback) {
  // Each handler owns its own DispatchTarget copy, freed when the handler is disconnected.
  handlers_.push_back(g_signal_connect_data(webrtcbin_, signal, callback, DispatchTarget::New(target_->dispatcher, target_->target),
                                            DispatchTarget::Free, static_cast<GConnectFlags>(0)));
}

void NativeWebRtcBin::Disconnect() {
  for (gulong handler : handlers_) g_signal_handler_disconnect(webrtcbin_, handler);
  handlers_.clear();
}

void NativeWebRtcBin::RequireOpen(Napi::Env env) const {
  if (webrtcbin_ == nullptr) throw MakeGstError(env, "the webrtcbin is closed", "gst-webrtc-node", 1);
}

Napi::Value NativeWebRtcBin::Id(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), id_); }

GstPromise* NativeWebRtcBin::NewPromise(const Napi::Value& id) const {
  RequireType(id.Env(), id.IsNumber(), "promise id must be a number");
  auto* context = new PromiseContext{DispatchTarget::New(target_->dispatcher, target_->target), id.As<Napi::Number>().Uint32Value()};
  return gst_promise_new_with_change_func(OnPromiseChanged, context, PromiseContext::Free);
}

void NativeWebRtcBin::CreateOffer(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  GstPromise* promise = NewPromise(info[0]);
  g_signal_emit_by_name(webrtcbin_, "create-offer", nullptr, promise);
  gst_promise_unref(promise);
}

void NativeWebRtcBin::CreateAnswer(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  GstPromise* promise = NewPromise(info[0]);
  g_signal_emit_by_name(webrtcbin_, "create-answer", nullptr, promise);
  gst_promise_unref(promise);
}

// setXDescription(promiseId, type, sdp): SDP that does not parse throws here, synchronously.
void NativeWebRtcBin::SetDescription(const Napi::CallbackInfo& info, const char* signal) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  GstWebRTCSDPType type = SdpTypeArg(info[1]);
  RequireType(env, info[2].IsString(), "sdp must be a string");
  const std::string text = info[2].As<Napi::String>().Utf8Value();
  GstSDPMessage* sdp = nullptr;
  gst_sdp_message_new(&sdp);
  if (gst_sdp_message_parse_buffer(reinterpret_cast<const guint8*>(text.data()), text.size(), sdp) != GST_SDP_OK) {
    gst_sdp_message_free(sdp);
    throw MakeGstError(env, "the SDP could not be parsed", "gst-webrtc-node", 4);
  }
  GstWebRTCSessionDescription* description = gst_webrtc_session_description_new(type, sdp);
  GstPromise* promise = NewPromise(info[0]);
  g_signal_emit_by_name(webrtcbin_, signal, description, promise);
  gst_promise_unref(promise);
  gst_webrtc_session_description_free(description);
}

void NativeWebRtcBin::SetLocalDescription(const Napi::CallbackInfo& info) { SetDescription(info, "set-local-description"); }

void NativeWebRtcBin::SetRemoteDescription(const Napi::CallbackInfo& info) { SetDescription(info, "set-remote-description"); }

// addIceCandidate(promiseId, mlineIndex, candidate): true when a reply will follow
// (GStreamer >= 1.24's add-ice-candidate-full), false when webrtcbin gives none.
Napi::Value NativeWebRtcBin::AddIceCandidate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  RequireType(env, info[1].IsNumber(), "sdpMLineIndex must be a number");
  RequireType(env, info[2].IsString(), "candidate must be a string");
  const guint mline = info[1].As<Napi::Number>().Uint32Value();
  const std::string candidate = info[2].As<Napi::String>().Utf8Value();
  static const bool hasFull = g_signal_lookup("add-ice-candidate-full", G_OBJECT_TYPE(webrtcbin_)) != 0;
  if (!hasFull) {
    g_signal_emit_by_name(webrtcbin_, "add-ice-candidate", mline, candidate.c_str());
    return Napi::Boolean::New(env, false);
  }
  GstPromise* promise = NewPromise(info[0]);
  g_signal_emit_by_name(webrtcbin_, "add-ice-candidate-full", mline, candidate.c_str(), promise);
  gst_promise_unref(promise);
  return Napi::Boolean::New(env, true);
}

void NativeWebRtcBin::GetStats(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  GstPromise* promise = NewPromise(info[0]);
  g_signal_emit_by_name(webrtcbin_, "get-stats", nullptr, promise);
  gst_promise_unref(promise);
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
  g_signal_emit_by_name(webrtcbin_, "add-transceiver", directionValue, caps, &transceiver);
  if (caps != nullptr) gst_caps_unref(caps);
  if (transceiver == nullptr) throw MakeGstError(env, "webrtcbin refused the transceiver", "gst-webrtc-node", 5);
  Napi::Object result = NativeObject::New(env, G_OBJECT(transceiver));
  gst_object_unref(transceiver);
  return result;
}

Napi::Value NativeWebRtcBin::GetTransceivers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  GArray* transceivers = nullptr;
  g_signal_emit_by_name(webrtcbin_, "get-transceivers", &transceivers);
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
  g_signal_emit_by_name(webrtcbin_, "add-turn-server", info[0].As<Napi::String>().Utf8Value().c_str(), &accepted);
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
  // webrtcbin refuses data channels (with a CRITICAL) while in NULL, which is where
  // a pipeline that has not played yet keeps it; READY is enough and costs no I/O.
  if (GST_STATE(webrtcbin_) == GST_STATE_NULL) gst_element_set_state(webrtcbin_, GST_STATE_READY);
  GObject* channel = nullptr;
  g_signal_emit_by_name(webrtcbin_, "create-data-channel", info[0].As<Napi::String>().Utf8Value().c_str(), structure, &channel);
  gst_structure_free(structure);
  if (channel == nullptr) throw MakeGstError(env, "webrtcbin refused the data channel (is the id in use, or the pipeline not started?)", "gst-webrtc-node", 6);
  Napi::Object result = Napi::Object::New(env);
  result.Set("target", WatchDataChannel(channel, target_->dispatcher));
  result.Set("channel", NativeObject::New(env, channel));
  g_object_unref(channel);
  return result;
}

void NativeWebRtcBin::Close(const Napi::CallbackInfo&) { Release(); }
