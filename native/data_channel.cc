#include "data_channel.h"

#include <gst/webrtc/webrtc.h>

#include <string>

#include "gst_error.h"
#include "object.h"

namespace {

void OnOpen(GObject*, gpointer data) { static_cast<DispatchTarget*>(data)->Post("open", nullptr); }

void OnClose(GObject*, gpointer data) { static_cast<DispatchTarget*>(data)->Post("close", nullptr); }

void OnError(GObject*, GError* error, gpointer data) {
  static_cast<DispatchTarget*>(data)->Post("error", gst_structure_new("error", "error", G_TYPE_ERROR, error, nullptr));
}

// Empty messages: webrtcbin passes NULL, and it swaps the two empty-message PPIDs
// of RFC 8831 (56 is "string empty", 57 "binary empty"; GStreamer 1.22 reads
// them the other way round). So NULL on the string signal is an empty *binary*
// message, and NULL on the data signal an empty *text* one.
void PostText(gpointer data, const gchar* text) {
  static_cast<DispatchTarget*>(data)->Post("message", gst_structure_new("message", "data", G_TYPE_STRING, text, nullptr));
}

void PostBinary(gpointer data, GBytes* bytes) {
  GBytes* payload = bytes != nullptr ? g_bytes_ref(bytes) : g_bytes_new(nullptr, 0);
  GstStructure* message = gst_structure_new("message", "data", G_TYPE_BYTES, payload, nullptr);
  g_bytes_unref(payload);
  static_cast<DispatchTarget*>(data)->Post("message", message);
}

void OnMessageString(GObject*, gchar* text, gpointer data) {
  if (text != nullptr) PostText(data, text);
  else PostBinary(data, nullptr);
}

void OnMessageData(GObject*, GBytes* bytes, gpointer data) {
  if (bytes != nullptr) PostBinary(data, bytes);
  else PostText(data, "");
}

// notify::ready-state: only 'closing' matters to JS (open and closed have signals of their own).
void OnReadyState(GObject* channel, GParamSpec*, gpointer data) {
  GstWebRTCDataChannelState state = GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED;
  g_object_get(channel, "ready-state", &state, nullptr);
  if (state == GST_WEBRTC_DATA_CHANNEL_STATE_CLOSING) static_cast<DispatchTarget*>(data)->Post("closing", nullptr);
}

void OnBufferedAmountLow(GObject*, gpointer data) { static_cast<DispatchTarget*>(data)->Post("buffered-amount-low", nullptr); }

ObjectRef ChannelArg(const Napi::Value& value) {
  ObjectRef object = NativeObject::From(value);
  RequireType(value.Env(), object != nullptr && GST_IS_WEBRTC_DATA_CHANNEL(object.get()), "expected a data channel");
  return object;
}

// dataChannelSend(channel, string | Buffer): queues one message; throws the GstError webrtcbin reports.
void Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ObjectRef channelRef = ChannelArg(info[0]);
  auto* channel = GST_WEBRTC_DATA_CHANNEL(channelRef.get());
  GError* error = nullptr;
  gboolean sent = FALSE;
  if (info[1].IsString()) {
    sent = gst_webrtc_data_channel_send_string_full(channel, info[1].As<Napi::String>().Utf8Value().c_str(), &error);
  } else {
    RequireType(env, info[1].IsBuffer(), "data must be a string or a Buffer");
    auto buffer = info[1].As<Napi::Buffer<uint8_t>>();
    GBytes* bytes = g_bytes_new(buffer.Data(), buffer.Length());  // copied: JS may reuse the buffer
    sent = gst_webrtc_data_channel_send_data_full(channel, bytes, &error);
    g_bytes_unref(bytes);
  }
  if (!sent) {
    Napi::Error jsError = MakeGstError(env, error);
    g_clear_error(&error);
    throw jsError;
  }
}

void Close(const Napi::CallbackInfo& info) { gst_webrtc_data_channel_close(GST_WEBRTC_DATA_CHANNEL(ChannelArg(info[0]).get())); }

gint IsSctpEncoder(gconstpointer element, gconstpointer) {
  GstElementFactory* factory = gst_element_get_factory(GST_ELEMENT(g_value_get_object(static_cast<const GValue*>(element))));
  return factory != nullptr && g_strcmp0(GST_OBJECT_NAME(factory), "sctpenc") == 0 ? 0 : 1;
}

// webrtcbin's SCTP encoder (a direct child), with a reference; null when it has none yet.
GstElement* SctpEncoder(const Napi::Value& value) {
  ObjectRef webrtcbin = NativeObject::From(value);
  RequireType(value.Env(), webrtcbin != nullptr && GST_IS_BIN(webrtcbin.get()), "expected a webrtcbin");
  GValue found = G_VALUE_INIT;
  GstIterator* children = gst_bin_iterate_elements(GST_BIN(webrtcbin.get()));
  GstElement* encoder = nullptr;
  if (gst_iterator_find_custom(children, IsSctpEncoder, &found, nullptr)) {
    encoder = GST_ELEMENT(g_value_dup_object(&found));
    g_value_unset(&found);
  }
  gst_iterator_free(children);
  return encoder;
}

// dataChannelBytesSent(webrtcbin, streamId) -> the bytes of that SCTP stream the
// association has taken (sctpenc's `bytes-sent` action signal); 0 when there is no
// SCTP encoder or no such stream yet. Never blocks.
Napi::Value BytesSent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireType(env, info[1].IsNumber(), "stream id must be a number");
  const guint streamId = info[1].As<Napi::Number>().Uint32Value();
  guint64 sent = 0;
  if (GstElement* encoder = SctpEncoder(info[0])) {
    g_signal_emit_by_name(encoder, "bytes-sent", streamId, &sent);
    gst_object_unref(encoder);
  }
  return Napi::Number::New(env, static_cast<double>(sent));
}

// dataChannelUnblock(webrtcbin): for teardown only. In GStreamer < 1.22.3 sctpenc
// retries a send forever while the association's send buffer is full, even when
// the pipeline is stopping (fixed upstream by "sctpenc: Fix potential shutdown
// deadlock"), so setting the pipeline to NULL hangs until SCTP gives up, minutes
// later. A flush-start on its source pad makes every waiting send return at once.
void Unblock(const Napi::CallbackInfo& info) {
  GstElement* encoder = SctpEncoder(info[0]);
  if (encoder == nullptr) return;
  GstPad* src = gst_element_get_static_pad(encoder, "src");
  if (src != nullptr) {
    gst_pad_send_event(src, gst_event_new_flush_start());
    gst_object_unref(src);
  }
  gst_object_unref(encoder);
}

}  // namespace

uint32_t WatchDataChannel(GObject* channel, Dispatcher* dispatcher) {
  const uint32_t id = dispatcher->NewTargetId();
  auto connect = [&](const char* signal, GCallback callback) {
    g_signal_connect_data(channel, signal, callback, DispatchTarget::New(dispatcher, id), DispatchTarget::Free,
                          static_cast<GConnectFlags>(0));
  };
  connect("on-open", G_CALLBACK(OnOpen));
  connect("on-close", G_CALLBACK(OnClose));
  connect("on-error", G_CALLBACK(OnError));
  connect("on-message-string", G_CALLBACK(OnMessageString));
  connect("on-message-data", G_CALLBACK(OnMessageData));
  connect("on-buffered-amount-low", G_CALLBACK(OnBufferedAmountLow));
  connect("notify::ready-state", G_CALLBACK(OnReadyState));
  return id;
}

void InitDataChannel(Napi::Env env, Napi::Object exports) {
  exports.Set("dataChannelSend", Napi::Function::New<Send>(env, "dataChannelSend"));
  exports.Set("dataChannelClose", Napi::Function::New<Close>(env, "dataChannelClose"));
  exports.Set("dataChannelBytesSent", Napi::Function::New<BytesSent>(env, "dataChannelBytesSent"));
  exports.Set("dataChannelUnblock", Napi::Function::New<Unblock>(env, "dataChannelUnblock"));
}
