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

void OnMessageString(GObject*, gchar* text, gpointer data) {
  static_cast<DispatchTarget*>(data)->Post("message", gst_structure_new("message", "data", G_TYPE_STRING, text != nullptr ? text : "", nullptr));
}

void OnMessageData(GObject*, GBytes* bytes, gpointer data) {
  GBytes* payload = bytes != nullptr ? g_bytes_ref(bytes) : g_bytes_new(nullptr, 0);
  GstStructure* message = gst_structure_new("message", "data", G_TYPE_BYTES, payload, nullptr);
  g_bytes_unref(payload);
  static_cast<DispatchTarget*>(data)->Post("message", message);
}

void OnBufferedAmountLow(GObject*, gpointer data) { static_cast<DispatchTarget*>(data)->Post("buffered-amount-low", nullptr); }

ObjectRef ChannelArg(const Napi::Value& value) {
  ObjectRef object = NativeObject::From(value);
  RequireType(value.Env(), object != nullptr && GST_IS_WEBRTC_DATA_CHANNEL(object.get()), "expected a data channel");
  return object;
}

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
  return id;
}

void InitDataChannel(Napi::Env env, Napi::Object exports) {
  exports.Set("dataChannelSend", Napi::Function::New<Send>(env, "dataChannelSend"));
  exports.Set("dataChannelClose", Napi::Function::New<Close>(env, "dataChannelClose"));
}
