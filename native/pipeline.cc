#include "pipeline.h"

#include <atomic>
#include <string>

#include "addon.h"
#include "args.h"
#include "gst_error.h"
#include "object.h"
#include "value.h"

namespace {

GstState StateArg(const Napi::Value& value) {
  const std::string name = StringArg(value, "state");
  if (name == "null") return GST_STATE_NULL;
  if (name == "ready") return GST_STATE_READY;
  if (name == "paused") return GST_STATE_PAUSED;
  if (name == "playing") return GST_STATE_PLAYING;
  throw Napi::TypeError::New(value.Env(), "state: expected 'null', 'ready', 'paused' or 'playing'");
}

const char* StateName(GstState state) {
  switch (state) {
    case GST_STATE_NULL: return "null";
    case GST_STATE_READY: return "ready";
    case GST_STATE_PAUSED: return "paused";
    case GST_STATE_PLAYING: return "playing";
    default: return "void-pending";
  }
}

const char* StateChangeName(GstStateChangeReturn result) {
  switch (result) {
    case GST_STATE_CHANGE_SUCCESS: return "success";
    case GST_STATE_CHANGE_ASYNC: return "async";
    case GST_STATE_CHANGE_NO_PREROLL: return "no-preroll";
    default: return "failure";
  }
}

// error, warning and info messages share one shape: { error, debug, source }.
GstStructure* ProblemToStructure(GstMessage* message) {
  GError* error = nullptr;
  gchar* debug = nullptr;
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) gst_message_parse_error(message, &error, &debug);
  else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING) gst_message_parse_warning(message, &error, &debug);
  else gst_message_parse_info(message, &error, &debug);
  GstStructure* data = gst_structure_new("problem", "error", G_TYPE_ERROR, error, "debug", G_TYPE_STRING, debug, "source",
                                         G_TYPE_STRING, GST_MESSAGE_SRC_NAME(message), nullptr);
  g_clear_error(&error);
  g_free(debug);
  return data;
}

GQuark BlockProbeQuark() {
  static GQuark quark = g_quark_from_static_string("gst-webrtc-node-block-probe");
  return quark;
}

struct PadBlock {
  DispatchTarget* target;
  std::string type;
  std::atomic<bool> announced{false};
  static void Free(gpointer data) {
    auto* self = static_cast<PadBlock*>(data);
    DispatchTarget::FreeNotify(self->target);
    delete self;
  }
};

GstPadProbeReturn OnPadBlocked(GstPad* pad, GstPadProbeInfo*, gpointer data) {
  auto* block = static_cast<PadBlock*>(data);
  if (!block->announced.exchange(true)) {
    GstCaps* caps = gst_pad_get_current_caps(pad);
    if (caps == nullptr) caps = gst_pad_query_caps(pad, nullptr);
    block->target->Post(block->type.c_str(),
                        gst_structure_new("pad", "pad", GST_TYPE_PAD, pad, "caps", GST_TYPE_CAPS, caps, nullptr));
    gst_caps_unref(caps);
  }
  return GST_PAD_PROBE_OK;  // stay blocked until JS links the pad and removes the probe
}

}  // namespace

void BlockPadUntilLinked(GstPad* pad, const DispatchTarget& target, const char* type) {
  auto* block = new PadBlock{DispatchTarget::New(target.dispatcher, target.target), type};
  gulong id = gst_pad_add_probe(
      pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BLOCK | GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      OnPadBlocked, block, PadBlock::Free);
  g_object_set_qdata(G_OBJECT(pad), BlockProbeQuark(), GSIZE_TO_POINTER(id));
}

void NativePipeline::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = DefineClass(env, "NativePipeline",
                                           {
                                               InstanceMethod<&NativePipeline::SetState>("setState"),
                                               InstanceMethod<&NativePipeline::GetState>("getState"),
                                               InstanceMethod<&NativePipeline::GetElement>("getElement"),
                                               InstanceMethod<&NativePipeline::ElementsByFactory>("elementsByFactory"),
                                               InstanceMethod<&NativePipeline::AddBin>("addBin"),
                                               InstanceMethod<&NativePipeline::AddElement>("addElement"),
                                               InstanceMethod<&NativePipeline::RemoveElement>("removeElement"),
                                               InstanceMethod<&NativePipeline::Link>("link"),
                                               InstanceMethod<&NativePipeline::SyncState>("syncState"),
                                               InstanceMethod<&NativePipeline::BlockPad>("blockPad"),
                                               InstanceMethod<&NativePipeline::UnblockPad>("unblockPad"),
                                               InstanceMethod<&NativePipeline::SendEos>("sendEos"),
                                               InstanceMethod<&NativePipeline::RecalculateLatency>("recalculateLatency"),
                                               InstanceMethod<&NativePipeline::SetKeepAlive>("setKeepAlive"),
                                               InstanceMethod<&NativePipeline::Clock>("clockTime"),
                                               InstanceMethod<&NativePipeline::Close>("close"),
                                               InstanceAccessor<&NativePipeline::Closed>("closed"),
                                               InstanceMethod<&NativePipeline::GetPad>("getPad"),
                                               InstanceMethod<&NativePipeline::RequestPad>("requestPad"),
                                               InstanceMethod<&NativePipeline::ReleasePad>("releasePad"),
                                               InstanceMethod<&NativePipeline::UnlinkWhenIdle>("unlinkWhenIdle"),
                                               InstanceMethod<&NativePipeline::WatchEos>("watchEos"),
                                               InstanceMethod<&NativePipeline::SendPadEos>("sendPadEos"),
                                               InstanceMethod<&NativePipeline::ForceKeyUnit>("forceKeyUnit"),
                                               InstanceMethod<&NativePipeline::CountElements>("countElements"),
                                               InstanceMethod<&NativePipeline::IsolateFlow>("isolateFlow"),
                                               InstanceMethod<&NativePipeline::RemoveGhostPad>("removeGhostPad"),
                                           });
  AddonData::Of(env)->pipelineConstructor = Napi::Persistent(constructor);
  exports.Set("NativePipeline", constructor);
}

NativePipeline* NativePipeline::From(const Napi::Value& value) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(AddonData::Of(env)->pipelineConstructor.Value()))
    throw Napi::TypeError::New(env, "expected a NativePipeline");
  return Unwrap(value.As<Napi::Object>());
}

NativePipeline::NativePipeline(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativePipeline>(info) {
  Napi::Env env = info.Env();
  RequireType(env, info[0].IsString() || info[0].IsNull(), "description must be a string or null");
  RequireType(env, info[1].IsFunction(), "onEvent must be a function");

  if (info[0].IsNull()) {
    pipeline_ = GST_PIPELINE(gst_object_ref_sink(gst_pipeline_new(nullptr)));
  } else {
    GError* error = nullptr;
    GstElement* element = gst_parse_launch_full(info[0].As<Napi::String>().Utf8Value().c_str(), nullptr,
                                                GST_PARSE_FLAG_FATAL_ERRORS, &error);
    if (element == nullptr || error != nullptr) {
      Napi::Error jsError = MakeGstError(env, error);
      g_clear_error(&error);
      if (element != nullptr) gst_object_unref(gst_object_ref_sink(element));
      throw jsError;
    }
    if (GST_IS_PIPELINE(element)) {
      pipeline_ = GST_PIPELINE(gst_object_ref_sink(element));
    } else {  // a single element: give it a pipeline
      pipeline_ = GST_PIPELINE(gst_object_ref_sink(gst_pipeline_new(nullptr)));
      gst_bin_add(GST_BIN(pipeline_), element);
    }
  }

  dispatcher_ = Dispatcher::Create(env, info[1].As<Napi::Function>());
  GstBus* bus = gst_pipeline_get_bus(pipeline_);
  gst_bus_set_sync_handler(bus, OnBusMessage, dispatcher_->Ref(), Dispatcher::UnrefNotify);
  gst_object_unref(bus);
  AddonData::Of(env)->pipelines.insert(this);
}

NativePipeline::~NativePipeline() { Shutdown(); }

void NativePipeline::Shutdown() {
  if (pipeline_ == nullptr) return;
  // Stop first: this joins the streaming threads and releases blocked pads, so no
  // GStreamer thread can be inside one of our callbacks afterwards.
  gst_element_set_state(GST_ELEMENT(pipeline_), GST_STATE_NULL);
  GstBus* bus = gst_pipeline_get_bus(pipeline_);
  gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
  gst_object_unref(bus);
  dispatcher_->Close();
  dispatcher_->Unref();
  dispatcher_ = nullptr;
  gst_object_unref(pipeline_);
  pipeline_ = nullptr;
  AddonData* addon = AddonData::Of(Env());
  if (addon != nullptr) addon->pipelines.erase(this);
}

GstBusSyncReply NativePipeline::OnBusMessage(GstBus*, GstMessage* message, gpointer data) {
  auto* dispatcher = static_cast<Dispatcher*>(data);
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR: dispatcher->Post(0, "error", ProblemToStructure(message)); break;
    case GST_MESSAGE_WARNING: dispatcher->Post(0, "warning", ProblemToStructure(message)); break;
    case GST_MESSAGE_INFO: dispatcher->Post(0, "info", ProblemToStructure(message)); break;
    case GST_MESSAGE_EOS: dispatcher->Post(0, "eos", nullptr); break;
    case GST_MESSAGE_LATENCY: dispatcher->Post(0, "latency", nullptr); break;
    case GST_MESSAGE_CLOCK_LOST: dispatcher->Post(0, "clock-lost", nullptr); break;
    case GST_MESSAGE_STATE_CHANGED: {
      // Only the pipeline's own state; every element posts these.
      GstObject* source = GST_MESSAGE_SRC(message);
      if (GST_IS_PIPELINE(source) && GST_OBJECT_PARENT(source) == nullptr) {
        GstState oldState, newState, pending;
        gst_message_parse_state_changed(message, &oldState, &newState, &pending);
        dispatcher->Post(0, "state-changed",
                         gst_structure_new("state", "old", G_TYPE_STRING, StateName(oldState), "new", G_TYPE_STRING,
                                           StateName(newState), "pending", G_TYPE_STRING, StateName(pending), nullptr));
      }
      break;
    }
    default: break;
  }
  // Nothing polls this bus: what the app needs went to JS above. A sync handler
  // that returns GST_BUS_DROP owns the message and must unref it.
  gst_message_unref(message);
  return GST_BUS_DROP;
}

void NativePipeline::RequireOpen(Napi::Env env) const {
  if (pipeline_ == nullptr) throw MakeGstError(env, "the pipeline is closed", "gst-webrtc-node", 1);
}

Napi::Value NativePipeline::SetState(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  const GstState target = StateArg(info[0]);
  GstStateChangeReturn result = gst_element_set_state(GST_ELEMENT(pipeline_), target);
  // Queued behind any error message the failure produced, so JS can report that error.
  if (result == GST_STATE_CHANGE_FAILURE)
    dispatcher_->Post(0, "state-change-failed", gst_structure_new("failed", "target", G_TYPE_STRING, StateName(target), nullptr));
  return Napi::String::New(info.Env(), StateChangeName(result));
}

Napi::Value NativePipeline::GetState(const Napi::CallbackInfo& info) {
  if (pipeline_ == nullptr) return Napi::String::New(info.Env(), "null");
  GstState current, pending;
  gst_element_get_state(GST_ELEMENT(pipeline_), &current, &pending, 0);
  return Napi::String::New(info.Env(), StateName(current));
}

Napi::Value NativePipeline::GetElement(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  GstElement* element = gst_bin_get_by_name(GST_BIN(pipeline_), StringArg(info[0], "name").c_str());
  if (element == nullptr) return info.Env().Null();
  Napi::Object result = NativeObject::New(info.Env(), G_OBJECT(element));
  gst_object_unref(element);
  return result;
}

Napi::Value NativePipeline::ElementsByFactory(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  const std::string factory = StringArg(info[0], "factory");
  Napi::Array result = Napi::Array::New(info.Env());
  GstIterator* iterator = gst_bin_iterate_recurse(GST_BIN(pipeline_));
  GValue item = G_VALUE_INIT;
  bool done = false;
  while (!done) {
    switch (gst_iterator_next(iterator, &item)) {
      case GST_ITERATOR_OK: {
        auto* element = GST_ELEMENT(g_value_get_object(&item));
        GstElementFactory* elementFactory = gst_element_get_factory(element);
        if (elementFactory != nullptr && factory == GST_OBJECT_NAME(elementFactory))
          result.Set(result.Length(), NativeObject::New(info.Env(), G_OBJECT(element)));
        g_value_reset(&item);
        break;
      }
      case GST_ITERATOR_RESYNC:
        gst_iterator_resync(iterator);
        result = Napi::Array::New(info.Env());
        break;
      default: done = true; break;
    }
  }
  g_value_unset(&item);
  gst_iterator_free(iterator);
  return result;
}

// addBin(description): parses a bin (unlinked pads become ghost pads), adds it to
// the pipeline and returns it. The caller links it and syncs its state.
Napi::Value NativePipeline::AddBin(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  GError* error = nullptr;
  GstElement* bin = gst_parse_bin_from_description_full(StringArg(info[0], "description").c_str(), TRUE, nullptr,
                                                        GST_PARSE_FLAG_FATAL_ERRORS, &error);
  if (bin == nullptr || error != nullptr) {
    Napi::Error jsError = MakeGstError(info.Env(), error);
    g_clear_error(&error);
    if (bin != nullptr) gst_object_unref(gst_object_ref_sink(bin));
    throw jsError;
  }
  gst_bin_add(GST_BIN(pipeline_), bin);
  return NativeObject::New(info.Env(), G_OBJECT(bin));
}

// addElement(factory, name?): one element, added to the pipeline.
Napi::Value NativePipeline::AddElement(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  const std::string factory = StringArg(info[0], "factory");
  const std::string name = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  GstElement* element = gst_element_factory_make(factory.c_str(), name.empty() ? nullptr : name.c_str());
  if (element == nullptr) throw MakeGstError(info.Env(), "no element \"" + factory + "\"", "gst_parse_error", GST_PARSE_ERROR_NO_SUCH_ELEMENT);
  if (!gst_bin_add(GST_BIN(pipeline_), element)) throw MakeGstError(info.Env(), "an element named \"" + name + "\" already exists");
  return NativeObject::New(info.Env(), G_OBJECT(element));
}

void NativePipeline::RemoveElement(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef elementRef = ElementArg(info[0], "element");
  auto* element = GST_ELEMENT(elementRef.get());
  GstObject* parent = gst_object_get_parent(GST_OBJECT(element));
  if (parent == nullptr) return;  // already removed
  gst_element_set_locked_state(element, TRUE);
  gst_element_set_state(element, GST_STATE_NULL);
  gst_bin_remove(GST_BIN(parent), element);
  gst_object_unref(parent);
}

// link(src, sink): elements or pads, in any combination; request pads are requested as needed.
void NativePipeline::Link(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  ObjectRef srcRef = NativeObject::From(info[0]);
  ObjectRef sinkRef = NativeObject::From(info[1]);
  GObject* src = srcRef.get();
  GObject* sink = sinkRef.get();
  RequireType(env, src != nullptr && (GST_IS_PAD(src) || GST_IS_ELEMENT(src)), "link: source must be an element or a pad");
  RequireType(env, sink != nullptr && (GST_IS_PAD(sink) || GST_IS_ELEMENT(sink)), "link: sink must be an element or a pad");
  if (GST_IS_ELEMENT(src) && GST_IS_ELEMENT(sink)) {
    if (!gst_element_link(GST_ELEMENT(src), GST_ELEMENT(sink)))
      throw MakeGstError(env, std::string("cannot link ") + GST_OBJECT_NAME(src) + " to " + GST_OBJECT_NAME(sink), "gst-webrtc-node", 2);
    return;
  }
  GstPad* srcPad = GST_IS_PAD(src) ? GST_PAD(gst_object_ref(src)) : nullptr;
  GstPad* sinkPad = GST_IS_PAD(sink) ? GST_PAD(gst_object_ref(sink)) : nullptr;
  if (srcPad == nullptr) srcPad = gst_element_get_compatible_pad(GST_ELEMENT(src), sinkPad, nullptr);
  if (sinkPad == nullptr) sinkPad = gst_element_get_compatible_pad(GST_ELEMENT(sink), srcPad, nullptr);
  GstPadLinkReturn result = (srcPad != nullptr && sinkPad != nullptr) ? gst_pad_link(srcPad, sinkPad) : GST_PAD_LINK_NOFORMAT;
  // gst_pad_link() only intersects what the pads' caps queries return, which a
  // ghost pad can answer loosely; a source that already has caps (an incoming
  // track) must have them accepted, or the mismatch shows up later as not-negotiated.
  GstCaps* current = (result == GST_PAD_LINK_OK) ? gst_pad_get_current_caps(srcPad) : nullptr;
  if (current != nullptr) {
    if (!gst_pad_query_accept_caps(sinkPad, current)) {
      gst_pad_unlink(srcPad, sinkPad);
      result = GST_PAD_LINK_NOFORMAT;
    }
    gst_caps_unref(current);
  }
  std::string what = std::string(GST_OBJECT_NAME(src)) + " to " + GST_OBJECT_NAME(sink);
  if (srcPad != nullptr) gst_object_unref(srcPad);
  if (sinkPad != nullptr) gst_object_unref(sinkPad);
  if (GST_PAD_LINK_FAILED(result))
    throw MakeGstError(env, "cannot link " + what + ": " + gst_pad_link_get_name(result), "gst-webrtc-node", 2);
}

void NativePipeline::SyncState(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef elementRef = ElementArg(info[0], "element");
  auto* element = GST_ELEMENT(elementRef.get());
  gst_element_set_locked_state(element, FALSE);
  if (!gst_element_sync_state_with_parent(element))
    throw MakeGstError(info.Env(), std::string("cannot start ") + GST_OBJECT_NAME(element), "gst-webrtc-node", 3);
}

// blockPad(pad): holds the data flowing through a src pad until unblockPad(), so
// its peer can be swapped without the upstream branch seeing not-linked.
void NativePipeline::BlockPad(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef padRef = NativeObject::From(info[0]);
  GObject* pad = padRef.get();
  RequireType(info.Env(), pad != nullptr && GST_IS_PAD(pad), "blockPad: expected a pad");
  if (g_object_get_qdata(pad, BlockProbeQuark()) != nullptr) return;
  gulong id = gst_pad_add_probe(GST_PAD(pad), GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM,
                                [](GstPad*, GstPadProbeInfo*, gpointer) { return GST_PAD_PROBE_OK; }, nullptr, nullptr);
  g_object_set_qdata(pad, BlockProbeQuark(), GSIZE_TO_POINTER(id));
}

void NativePipeline::UnblockPad(const Napi::CallbackInfo& info) {
  ObjectRef padRef = NativeObject::From(info[0]);
  GObject* pad = padRef.get();
  RequireType(info.Env(), pad != nullptr && GST_IS_PAD(pad), "unblockPad: expected a pad");
  gulong id = GPOINTER_TO_SIZE(g_object_steal_qdata(pad, BlockProbeQuark()));
  if (id != 0) gst_pad_remove_probe(GST_PAD(pad), id);
}

Napi::Value NativePipeline::SendEos(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  return Napi::Boolean::New(info.Env(), gst_element_send_event(GST_ELEMENT(pipeline_), gst_event_new_eos()));
}

void NativePipeline::RecalculateLatency(const Napi::CallbackInfo& info) {
  if (pipeline_ != nullptr) gst_bin_recalculate_latency(GST_BIN(pipeline_));
  (void)info;
}

void NativePipeline::SetKeepAlive(const Napi::CallbackInfo& info) {
  if (dispatcher_ != nullptr) dispatcher_->SetKeepAlive(info.Env(), info[0].ToBoolean().Value());
}

// The pipeline clock's running time in nanoseconds (null when not playing).
Napi::Value NativePipeline::Clock(const Napi::CallbackInfo& info) {
  if (pipeline_ == nullptr) return info.Env().Null();
  GstClock* clock = gst_pipeline_get_clock(pipeline_);
  if (clock == nullptr) return info.Env().Null();
  GstClockTime now = gst_clock_get_time(clock);
  gst_object_unref(clock);
  GstClockTime base = gst_element_get_base_time(GST_ELEMENT(pipeline_));
  return Napi::Number::New(info.Env(), static_cast<double>(now - base));
}

void NativePipeline::Close(const Napi::CallbackInfo&) { Shutdown(); }

Napi::Value NativePipeline::Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), pipeline_ == nullptr); }
