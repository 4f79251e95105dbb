#include "data_channel.h"

#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

#include "gst_error.h"
#include "object.h"

namespace {

// Flow control for received messages. Each message waits in the dispatcher's
// queue until JS takes it; a peer that sends faster than JS reads would grow
// that queue without bound. A webrtcbin's ReceiveGate counts the bytes of its
// channels' messages posted to JS and not yet delivered; above the bound, a
// probe on the SCTP decoder's input holds the packets there, so usrsctp reads
// nothing more, the peer's SCTP window closes and the peer's sending stalls (its
// bufferedAmount grows). The upstream receive queue of webrtcbin is leaky and
// bounded, so nothing else grows meanwhile.
//
// Waiting on a GStreamer thread for JS is allowed here, as the one exception to
// the rule, because the wait is bounded by design: it ends when JS consumes
// messages, when the gate is opened (dataChannelUnblock, which every close path
// calls before stopping the pipeline), or when the pad starts flushing (a state
// change to NULL, also the environment's cleanup), checked every few ms. So
// teardown never deadlocks, and no JS call ever waits on this.
class ReceiveGate {
 public:
  explicit ReceiveGate(size_t bound) : bound_(bound) {}

  ReceiveGate* Ref() {
    refs_.fetch_add(1);
    return this;
  }
  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }
  static void UnrefNotify(gpointer gate) { static_cast<ReceiveGate*>(gate)->Unref(); }

  void Posted(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    queued_ += bytes;
  }

  void Delivered(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queued_ = bytes > queued_ ? 0 : queued_ - bytes;
    }
    wake_.notify_all();
  }

  void SetBound(size_t bound) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      bound_ = bound;
    }
    wake_.notify_all();
  }

  // For good: teardown.
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      open_ = true;
    }
    wake_.notify_all();
  }

  // Streaming thread of `pad` (the SCTP decoder's input).
  void WaitBelowBound(GstPad* pad) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!open_ && queued_ > bound_ && !GST_PAD_IS_FLUSHING(pad)) wake_.wait_for(lock, std::chrono::milliseconds(20));
  }

  bool probed = false;  // under the webrtcbin's object lock

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  size_t queued_ = 0;
  size_t bound_;
  bool open_ = false;
  std::atomic<int> refs_{1};
};

// One channel's share of its webrtcbin's gate: what it posted and JS has not
// taken. When the channel closes, JS drops its remaining events, so Forget()
// gives its share back and the channel counts no more.
class ChannelCount {
 public:
  explicit ChannelCount(ReceiveGate* gate) : gate_(gate->Ref()) {}
  ~ChannelCount() { gate_->Unref(); }
  static void FreeNotify(gpointer count) { delete static_cast<ChannelCount*>(count); }

  void Posted(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (forgotten_) return;
    outstanding_ += bytes;
    gate_->Posted(bytes);
  }
  void Delivered(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    bytes = std::min(bytes, outstanding_);
    outstanding_ -= bytes;
    gate_->Delivered(bytes);
  }
  void Forget() {
    std::lock_guard<std::mutex> lock(mutex_);
    forgotten_ = true;
    gate_->Delivered(outstanding_);
    outstanding_ = 0;
  }

 private:
  ReceiveGate* gate_;
  std::mutex mutex_;
  size_t outstanding_ = 0;
  bool forgotten_ = false;
};

GQuark GateQuark() {
  static GQuark quark = g_quark_from_static_string("gst-webrtc-node-receive-gate");
  return quark;
}

GQuark CountQuark() {
  static GQuark quark = g_quark_from_static_string("gst-webrtc-node-receive-count");
  return quark;
}

ReceiveGate* GateOf(GObject* webrtcbin) { return static_cast<ReceiveGate*>(g_object_get_qdata(webrtcbin, GateQuark())); }
ChannelCount* CountOf(GObject* channel) { return static_cast<ChannelCount*>(g_object_get_qdata(channel, CountQuark())); }

// A message's size as JS will report it back (dataChannelDelivered).
void CountPosted(GObject* channel, GstStructure* message, size_t bytes) {
  gst_structure_set(message, "size", G_TYPE_DOUBLE, static_cast<double>(bytes), nullptr);
  if (ChannelCount* count = CountOf(channel)) count->Posted(bytes);
}

void OnOpen(GObject*, gpointer data) { static_cast<DispatchTarget*>(data)->Post("open", nullptr); }

void OnClose(GObject*, gpointer data) { static_cast<DispatchTarget*>(data)->Post("close", nullptr); }

void OnError(GObject*, GError* error, gpointer data) {
  static_cast<DispatchTarget*>(data)->Post("error", gst_structure_new("error", "error", G_TYPE_ERROR, error, nullptr));
}

// Empty messages: webrtcbin passes NULL, and it swaps the two empty-message PPIDs
// of RFC 8831 (56 is "string empty", 57 "binary empty"; GStreamer 1.22 reads
// them the other way round). So NULL on the string signal is an empty *binary*
// message, and NULL on the data signal an empty *text* one.
void PostText(GObject* channel, gpointer data, const gchar* text) {
  GstStructure* message = gst_structure_new("message", "data", G_TYPE_STRING, text, nullptr);
  CountPosted(channel, message, strlen(text));
  static_cast<DispatchTarget*>(data)->Post("message", message);
}

void PostBinary(GObject* channel, gpointer data, GBytes* bytes) {
  GBytes* payload = bytes != nullptr ? g_bytes_ref(bytes) : g_bytes_new(nullptr, 0);
  GstStructure* message = gst_structure_new("message", "data", G_TYPE_BYTES, payload, nullptr);
  CountPosted(channel, message, g_bytes_get_size(payload));
  g_bytes_unref(payload);
  static_cast<DispatchTarget*>(data)->Post("message", message);
}

void OnMessageString(GObject* channel, gchar* text, gpointer data) {
  if (text != nullptr) PostText(channel, data, text);
  else PostBinary(channel, data, nullptr);
}

void OnMessageData(GObject* channel, GBytes* bytes, gpointer data) {
  if (bytes != nullptr) PostBinary(channel, data, bytes);
  else PostText(channel, data, "");
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

gint IsFromFactory(gconstpointer element, gconstpointer name) {
  GstElementFactory* factory = gst_element_get_factory(GST_ELEMENT(g_value_get_object(static_cast<const GValue*>(element))));
  return factory != nullptr && g_strcmp0(GST_OBJECT_NAME(factory), static_cast<const char*>(name)) == 0 ? 0 : 1;
}

ObjectRef WebRtcBinArg(const Napi::Value& value) {
  ObjectRef webrtcbin = NativeObject::From(value);
  RequireType(value.Env(), webrtcbin != nullptr && GST_IS_BIN(webrtcbin.get()), "expected a webrtcbin");
  return webrtcbin;
}

// webrtcbin's direct child made by `factory` (sctpenc, sctpdec), with a reference; null when it has none yet.
GstElement* ChildFromFactory(GstBin* webrtcbin, const char* factory) {
  GValue found = G_VALUE_INIT;
  GstIterator* children = gst_bin_iterate_elements(webrtcbin);
  GstElement* child = nullptr;
  if (gst_iterator_find_custom(children, IsFromFactory, &found, const_cast<char*>(factory))) {
    child = GST_ELEMENT(g_value_dup_object(&found));
    g_value_unset(&found);
  }
  gst_iterator_free(children);
  return child;
}

GstElement* SctpEncoder(const Napi::Value& value) { return ChildFromFactory(GST_BIN(WebRtcBinArg(value).get()), "sctpenc"); }

GstPadProbeReturn HoldWhileJsIsBehind(GstPad* pad, GstPadProbeInfo*, gpointer gate) {
  static_cast<ReceiveGate*>(gate)->WaitBelowBound(pad);
  return GST_PAD_PROBE_OK;
}

// dataChannelLimitReceive(webrtcbin, channel, boundBytes): counts the channel's
// messages into its webrtcbin's ReceiveGate (made on first use, with the bound
// given last) and, once the SCTP decoder exists, holds its input while more than
// `boundBytes` wait for JS. Call once the channel is open; idempotent.
void LimitReceive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ObjectRef webrtcbin = WebRtcBinArg(info[0]);
  ObjectRef channel = ChannelArg(info[1]);
  RequireType(env, info[2].IsNumber() && info[2].As<Napi::Number>().DoubleValue() >= 0, "bound must be a non-negative number of bytes");
  const auto bound = static_cast<size_t>(info[2].As<Napi::Number>().DoubleValue());
  GObject* bin = G_OBJECT(webrtcbin.get());
  GST_OBJECT_LOCK(bin);
  ReceiveGate* gate = GateOf(bin);
  if (gate == nullptr) {
    gate = new ReceiveGate(bound);
    g_object_set_qdata_full(bin, GateQuark(), gate, ReceiveGate::UnrefNotify);
  }
  gate->SetBound(bound);
  gate->Ref();  // for this call, beyond the lock
  const bool probed = gate->probed;
  GST_OBJECT_UNLOCK(bin);
  {
    // A data channel is a plain GObject (no object lock): one mutex for every check-and-set.
    static std::mutex countSetup;
    std::lock_guard<std::mutex> lock(countSetup);
    if (CountOf(G_OBJECT(channel.get())) == nullptr)
      g_object_set_qdata_full(G_OBJECT(channel.get()), CountQuark(), new ChannelCount(gate), ChannelCount::FreeNotify);
  }
  if (!probed) {
    if (GstElement* decoder = ChildFromFactory(GST_BIN(bin), "sctpdec")) {
      GstPad* sink = gst_element_get_static_pad(decoder, "sink");
      GST_OBJECT_LOCK(bin);
      const bool first = !gate->probed;
      gate->probed = true;
      GST_OBJECT_UNLOCK(bin);
      if (sink != nullptr && first)
        gst_pad_add_probe(sink, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST), HoldWhileJsIsBehind,
                          gate->Ref(), ReceiveGate::UnrefNotify);
      if (sink != nullptr) gst_object_unref(sink);
      gst_object_unref(decoder);
    }
  }
  gate->Unref();
}

// dataChannelDelivered(channel, bytes): JS took a message of `bytes` (its `size`
// field); a negative `bytes`: the channel closed, JS takes nothing more from it.
void Delivered(const Napi::CallbackInfo& info) {
  ObjectRef channel = ChannelArg(info[0]);
  RequireType(info.Env(), info[1].IsNumber(), "bytes must be a number");
  const double bytes = info[1].As<Napi::Number>().DoubleValue();
  ChannelCount* count = CountOf(G_OBJECT(channel.get()));
  if (count == nullptr) return;
  if (bytes < 0) count->Forget();
  else count->Delivered(static_cast<size_t>(bytes));
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

// Why dataChannelUnblock's FLUSH_START has no FLUSH_STOP (GStreamer 1.22.0,
// gstsctpenc.c), and why nothing may send one after it: sctpenc's FLUSH_STOP
// handler, and its RECONFIGURE handler too, clears every sink pad's private
// `flushing` flag and restarts the source task unconditionally. In 1.22.0 the
// sink pads have no activate function that sets that flag again when the
// element stops (added in 1.22.3, "sctpenc: Fix potential shutdown deadlock"),
// so after a FLUSH_STOP a send that finds the association's buffer full loops
// again, and the state change to NULL then waits forever for that sink pad's
// stream lock. After the state change, GStreamer core refuses FLUSH_STOP on an
// inactive pad (gstpad.c), and one that passes that check while the pad is
// being deactivated makes sctpenc start its task on a stopped pad. So the
// flush stays in effect: the element never runs again (the webrtcbin is being
// closed and removed). This probe drops a FLUSH_STOP or RECONFIGURE that would
// reach sctpenc's source pad from then on (a downstream renegotiation at
// teardown, for one), so the invariant cannot be broken by someone else.
GstPadProbeReturn KeepFlushing(GstPad*, GstPadProbeInfo* info, gpointer) {
  const GstEventType type = GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info));
  return type == GST_EVENT_FLUSH_STOP || type == GST_EVENT_RECONFIGURE ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

GstPadProbeReturn DropInput(GstPad*, GstPadProbeInfo*, gpointer) { return GST_PAD_PROBE_DROP; }

GQuark InputDroppedQuark() {
  static GQuark quark = g_quark_from_static_string("gst-webrtc-node-sctp-input-dropped");
  return quark;
}

// From teardown on, the SCTP decoder takes no more packets. GStreamer 1.22's
// sctpdec stops by removing its source pads (stop_all_srcpad_tasks) while its
// input still runs: a message arriving then makes on_receive create a new
// source pad, with a task blocked on a data queue nobody flushes (joining it
// later froze close() in gst_task_join, issue 10 case 9) and a queue that the
// element's cleanup frees under it (case 8: gst_data_queue_push on freed memory,
// on the receive queue's thread). With the input dropped first, nothing reaches
// usrsctp during that window; the association is being torn down anyway.
void DropSctpInput(GstBin* webrtcbin) {
  GstElement* decoder = ChildFromFactory(webrtcbin, "sctpdec");
  if (decoder == nullptr) return;
  if (GstPad* sink = gst_element_get_static_pad(decoder, "sink")) {
    GST_OBJECT_LOCK(sink);
    const bool first = g_object_get_qdata(G_OBJECT(sink), InputDroppedQuark()) == nullptr;
    if (first) g_object_set_qdata(G_OBJECT(sink), InputDroppedQuark(), GINT_TO_POINTER(1));
    GST_OBJECT_UNLOCK(sink);
    if (first) gst_pad_add_probe(sink, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST), DropInput, nullptr, nullptr);
    gst_object_unref(sink);
  }
  gst_object_unref(decoder);
}

// dataChannelUnblock(webrtcbin): for teardown only (the webrtcbin closes). Three
// things: stop holding received data (ReceiveGate), drop SCTP input from now on
// (DropSctpInput), and unblock the SCTP encoder: in GStreamer < 1.22.3 sctpenc
// retries a send forever while the association's send buffer is full, even when
// the pipeline is stopping (fixed upstream by "sctpenc: Fix potential shutdown
// deadlock"), so setting the pipeline to NULL hangs until SCTP gives up, minutes
// later. A flush-start on its source pad makes every waiting send return at once.
void Unblock(const Napi::CallbackInfo& info) {
  ObjectRef webrtcbin = WebRtcBinArg(info[0]);
  if (ReceiveGate* gate = GateOf(G_OBJECT(webrtcbin.get()))) gate->Open();
  DropSctpInput(GST_BIN(webrtcbin.get()));
  GstElement* encoder = SctpEncoder(info[0]);
  if (encoder == nullptr) return;
  GstPad* src = gst_element_get_static_pad(encoder, "src");
  if (src != nullptr) {
    gst_pad_send_event(src, gst_event_new_flush_start());
    // The flush-start stays in effect until the element stops: see KeepFlushing.
    gst_pad_add_probe(src, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_EVENT_UPSTREAM | GST_PAD_PROBE_TYPE_EVENT_FLUSH), KeepFlushing, nullptr,
                      nullptr);
    gst_object_unref(src);
  }
  gst_object_unref(encoder);
}


// GStreamer 1.22.0's data channel can be finalized while a streaming thread of
// its webrtcbin still uses it: the probe on its appsrc (buffered-amount) runs
// with no reference, and finalize removing that probe does not wait for a call
// in progress, so the probe then notifies a freed object (GLib prints
// `g_object_notify: assertion 'G_IS_OBJECT (object)' failed`, or worse). 1.22.3
// fixed the channel's side (upstream MR 4580). Here the webrtcbin holds a
// reference to each of its channels until it is finalized itself, after its
// streaming threads have stopped. A closed channel costs one small object until
// then (webrtcbin 1.22 keeps its appsrc and appsink bins until then anyway).
void KeepChannelWithWebRtcBin(GObject* webrtcbin, GObject* channel) {
  static GQuark quark = g_quark_from_static_string("gst-webrtc-node-data-channels");
  GST_OBJECT_LOCK(webrtcbin);
  auto* channels = static_cast<GPtrArray*>(g_object_get_qdata(webrtcbin, quark));
  if (channels == nullptr) {
    channels = g_ptr_array_new_with_free_func(g_object_unref);
    g_object_set_qdata_full(webrtcbin, quark, channels, reinterpret_cast<GDestroyNotify>(g_ptr_array_unref));
  }
  if (!g_ptr_array_find(channels, channel, nullptr)) g_ptr_array_add(channels, g_object_ref(channel));
  GST_OBJECT_UNLOCK(webrtcbin);
}

}  // namespace

uint32_t WatchDataChannel(GstElement* webrtcbin, GObject* channel, Dispatcher* dispatcher) {
  KeepChannelWithWebRtcBin(G_OBJECT(webrtcbin), channel);
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
  exports.Set("dataChannelLimitReceive", Napi::Function::New<LimitReceive>(env, "dataChannelLimitReceive"));
  exports.Set("dataChannelDelivered", Napi::Function::New<Delivered>(env, "dataChannelDelivered"));
}
