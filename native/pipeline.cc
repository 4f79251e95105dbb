#include "pipeline.h"

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "addon.h"
#include "args.h"
#include "bin_elements.h"
#include "gst_error.h"
#include "object.h"
#include "parse.h"
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

// The bus sync handler's context. Latency and clock-lost messages are handled
// here, in native code, by queueing work on the control thread: no JS round trip.
struct BusContext {
  Dispatcher* dispatcher;  // one reference held
  std::shared_ptr<ControlThread> control;
  GWeakRef pipeline;
  // At most one latency recalculation is queued at a time: each costs more with
  // every element in the pipeline, and a burst of messages (many viewers joining)
  // needs only one recalculation after the last of them.
  std::shared_ptr<std::atomic<bool>> latencyQueued = std::make_shared<std::atomic<bool>>(false);

  BusContext(Dispatcher* dispatcher, std::shared_ptr<ControlThread> control, GstPipeline* pipeline)
      : dispatcher(dispatcher->Ref()), control(std::move(control)) {
    g_weak_ref_init(&this->pipeline, pipeline);
  }
  ~BusContext() {
    g_weak_ref_clear(&pipeline);
    dispatcher->Unref();
  }
  static void Free(gpointer data) { delete static_cast<BusContext*>(data); }

  SharedObject Pipeline() {
    gpointer object = g_weak_ref_get(&pipeline);
    return object == nullptr ? nullptr : SharedObject(G_OBJECT(object), ObjectUnref());
  }

  void QueueLatencyRecalculation() {
    if (latencyQueued->exchange(true)) return;
    SharedObject bin = Pipeline();
    if (bin == nullptr) return;
    std::shared_ptr<std::atomic<bool>> queued = latencyQueued;
    control->Post([bin, queued] {
      queued->store(false);  // a message arriving while this runs queues another round
      gst_bin_recalculate_latency(GST_BIN(bin.get()));
    });
  }

  // The clock provider went away: the standard recovery is to pause and play again.
  void QueueClockRecovery() {
    SharedObject element = Pipeline();
    if (element == nullptr) return;
    control->Post([element] {
      GstElement* pipeline = GST_ELEMENT(element.get());
      GST_OBJECT_LOCK(pipeline);
      const bool playing = GST_STATE_TARGET(pipeline) == GST_STATE_PLAYING;
      GST_OBJECT_UNLOCK(pipeline);
      if (!playing) return;
      gst_element_set_state(pipeline, GST_STATE_PAUSED);
      gst_element_set_state(pipeline, GST_STATE_PLAYING);
    });
  }
};

// Sets every element still out of NULL (one taken to READY while its pipeline
// never played, as createDataChannel() does to a webrtcbin) to NULL: disposing an
// element in another state makes GStreamer print a CRITICAL.
void StopEveryElement(GstBin* bin) {
  GstIterator* iterator = gst_bin_iterate_recurse(bin);
  GValue item = G_VALUE_INIT;
  bool done = false;
  while (!done) {
    switch (gst_iterator_next(iterator, &item)) {
      case GST_ITERATOR_OK: {
        auto* element = GST_ELEMENT(g_value_get_object(&item));
        if (GST_STATE(element) != GST_STATE_NULL) gst_element_set_state(element, GST_STATE_NULL);
        g_value_reset(&item);
        break;
      }
      case GST_ITERATOR_RESYNC: gst_iterator_resync(iterator); break;
      default: done = true; break;
    }
  }
  g_value_unset(&item);
  gst_iterator_free(iterator);
}

// Control thread: the end of a pipeline JS has closed.
void TearDown(GstPipeline* pipeline, Dispatcher* dispatcher) {
  // Stop first: this joins the streaming threads and releases blocked pads, so no
  // GStreamer thread can be inside one of our callbacks afterwards.
  gst_element_set_state(GST_ELEMENT(pipeline), GST_STATE_NULL);
  StopEveryElement(GST_BIN(pipeline));
  GstBus* bus = gst_pipeline_get_bus(pipeline);
  gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
  gst_object_unref(bus);
  dispatcher->Close();
  dispatcher->Unref();
  gst_object_unref(pipeline);
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
                                               InstanceMethod<&NativePipeline::SetState>("setState", kMethod),
                                               InstanceMethod<&NativePipeline::GetState>("getState", kMethod),
                                               InstanceMethod<&NativePipeline::GetElement>("getElement", kMethod),
                                               InstanceMethod<&NativePipeline::ElementsByFactory>("elementsByFactory", kMethod),
                                               InstanceMethod<&NativePipeline::AddBin>("addBin", kMethod),
                                               InstanceMethod<&NativePipeline::AddElement>("addElement", kMethod),
                                               InstanceMethod<&NativePipeline::AddBinLater>("addBinLater", kMethod),
                                               InstanceMethod<&NativePipeline::AddElementLater>("addElementLater", kMethod),
                                               InstanceMethod<&NativePipeline::RemoveElement>("removeElement", kMethod),
                                               InstanceMethod<&NativePipeline::Link>("link", kMethod),
                                               InstanceMethod<&NativePipeline::AcceptsCurrentCaps>("acceptsCurrentCaps", kMethod),
                                               InstanceMethod<&NativePipeline::Unlink>("unlink", kMethod),
                                               InstanceMethod<&NativePipeline::SyncState>("syncState", kMethod),
                                               InstanceMethod<&NativePipeline::RestartElement>("restartElement", kMethod),
                                               InstanceMethod<&NativePipeline::BlockPad>("blockPad", kMethod),
                                               InstanceMethod<&NativePipeline::UnblockPad>("unblockPad", kMethod),
                                               InstanceMethod<&NativePipeline::SendEos>("sendEos", kMethod),
                                               InstanceMethod<&NativePipeline::SetProperty>("setProperty", kMethod),
                                               InstanceMethod<&NativePipeline::SetKeepAlive>("setKeepAlive", kMethod),
                                               InstanceMethod<&NativePipeline::Clock>("clockTime", kMethod),
                                               InstanceMethod<&NativePipeline::Close>("close", kMethod),
                                               InstanceAccessor<&NativePipeline::Closed>("closed", kAccessor),
                                               InstanceMethod<&NativePipeline::GetPad>("getPad", kMethod),
                                               InstanceMethod<&NativePipeline::RequestPad>("requestPad", kMethod),
                                               InstanceMethod<&NativePipeline::RequestPadLater>("requestPadLater", kMethod),
                                               InstanceMethod<&NativePipeline::LinkLater>("linkLater", kMethod),
                                               InstanceMethod<&NativePipeline::ReleasePad>("releasePad", kMethod),
                                               InstanceMethod<&NativePipeline::UnlinkWhenIdle>("unlinkWhenIdle", kMethod),
                                               InstanceMethod<&NativePipeline::WatchEos>("watchEos", kMethod),
                                               InstanceMethod<&NativePipeline::SendPadEos>("sendPadEos", kMethod),
                                               InstanceMethod<&NativePipeline::ForceKeyUnit>("forceKeyUnit", kMethod),
                                               InstanceMethod<&NativePipeline::LimitKeyframeRequests>("limitKeyframeRequests", kMethod),
                                               InstanceMethod<&NativePipeline::KeyframeRequestCounts>("keyframeRequestCounts", kMethod),
                                               InstanceMethod<&NativePipeline::DropUntilKeyframe>("dropUntilKeyframe", kMethod),
                                               InstanceMethod<&NativePipeline::CountElements>("countElements", kMethod),
                                               InstanceMethod<&NativePipeline::IsolateFlow>("isolateFlow", kMethod),
                                               InstanceMethod<&NativePipeline::RemoveGhostPad>("removeGhostPad", kMethod),
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
    GstElement* element = ParseLaunch(info[0].As<Napi::String>().Utf8Value(), &error);
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

  AddonData* addon = AddonData::Of(env);
  dispatcher_ = Dispatcher::Create(env, info[1].As<Napi::Function>());
  control_ = ControlThread::Start("gst-node-ctl", addon->threads);
  GstBus* bus = gst_pipeline_get_bus(pipeline_);
  gst_bus_set_sync_handler(bus, OnBusMessage, new BusContext(dispatcher_, control_, pipeline_), BusContext::Free);
  gst_object_unref(bus);
  addon->pipelines.insert(this);
}

NativePipeline::~NativePipeline() { Shutdown(); }

void NativePipeline::Shutdown() {
  if (pipeline_ == nullptr) return;
  GstPipeline* pipeline = pipeline_;
  Dispatcher* dispatcher = dispatcher_;
  pipeline_ = nullptr;
  dispatcher_ = nullptr;
  dispatcher->SetKeepAlive(Env(), false);  // a closed pipeline never keeps Node.js alive
  AddonData* addon = AddonData::Of(Env());
  if (addon != nullptr) addon->pipelines.erase(this);
  // The control thread runs what is queued before this, then the teardown, then ends.
  if (!control_->Post([pipeline, dispatcher] { TearDown(pipeline, dispatcher); })) TearDown(pipeline, dispatcher);
  control_->Finish();
}

GstBusSyncReply NativePipeline::OnBusMessage(GstBus*, GstMessage* message, gpointer data) {
  auto* context = static_cast<BusContext*>(data);
  Dispatcher* dispatcher = context->dispatcher;
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR: dispatcher->Post(0, "error", ProblemToStructure(message)); break;
    case GST_MESSAGE_WARNING: dispatcher->Post(0, "warning", ProblemToStructure(message)); break;
    case GST_MESSAGE_INFO: dispatcher->Post(0, "info", ProblemToStructure(message)); break;
    case GST_MESSAGE_EOS: dispatcher->Post(0, "eos", nullptr); break;
    case GST_MESSAGE_LATENCY: context->QueueLatencyRecalculation(); break;
    case GST_MESSAGE_CLOCK_LOST: context->QueueClockRecovery(); break;
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
  if (pipeline_ == nullptr) throw MakeGstError(env, "the pipeline is closed", ErrorCode::Closed);
}

Napi::Value NativePipeline::Queue(Napi::Env env, std::function<OperationResult()> operation) {
  RequireOpen(env);
  const uint32_t id = nextOperation_++;
  std::shared_ptr<Dispatcher> dispatcher = dispatcher_->Share();
  const bool queued = control_->Post([id, dispatcher, operation] {
    OperationResult outcome = operation();
    GstStructure* done = gst_structure_new("done", "id", G_TYPE_UINT, id, nullptr);
    if (!outcome.result.empty()) gst_structure_set(done, "result", G_TYPE_STRING, outcome.result.c_str(), nullptr);
    if (outcome.error != nullptr) {
      gst_structure_set(done, "error", G_TYPE_ERROR, outcome.error, nullptr);
      g_error_free(outcome.error);
    }
    dispatcher->Post(0, "done", done);
  });
  if (!queued) throw MakeGstError(env, "the pipeline is closed", ErrorCode::Closed);
  return Napi::Number::New(env, id);
}

// setState(state) -> operation id; `done` { result: 'success' | 'async' | 'no-preroll' | 'failure' }.
// A failure's `done` is queued behind the error message that explains it.
Napi::Value NativePipeline::SetState(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  const GstState target = StateArg(info[0]);
  SharedObject pipeline = ShareNew(pipeline_);
  return Queue(info.Env(), [pipeline, target] {
    return OperationResult{StateChangeName(gst_element_set_state(GST_ELEMENT(pipeline.get()), target))};
  });
}

// getState(): the current state, without waiting for a change in progress.
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
  return BinElementsOf(info.Env(), GST_BIN(pipeline_), StringArg(info[0], "factory").c_str());
}

// addBin(description): parses a bin (unlinked pads become ghost pads), adds it to
// the pipeline and returns it. The caller links it and syncs its state.
Napi::Value NativePipeline::AddBin(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  GError* error = nullptr;
  GstElement* bin = ParseBin(StringArg(info[0], "description"), &error);
  if (bin == nullptr || error != nullptr) {
    Napi::Error jsError = MakeGstError(info.Env(), error);
    g_clear_error(&error);
    if (bin != nullptr) gst_object_unref(gst_object_ref_sink(bin));
    throw jsError;
  }
  // Locked until syncState(): the pipeline's own state changes run on the control
  // thread, and one in progress must not start a branch before it is linked
  // (its source would stop at once, not-linked).
  gst_element_set_locked_state(bin, TRUE);
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
  if (!gst_bin_add(GST_BIN(pipeline_), element)) throw MakeGstError(info.Env(), "an element named \"" + name + "\" already exists", ErrorCode::NameInUse);
  return NativeObject::New(info.Env(), G_OBJECT(element));
}

// Settings given at creation: [path, value] pairs, the value as text (parsed
// for the property's type as gst-launch does). A path names a property, or a
// chain of object-valued properties and then one, e.g. "ice-agent.agent.upnp".
// A property the object does not have is skipped: settings are for every
// version of the plugins (an older libnice lacks some).
using Settings = std::vector<std::pair<std::string, std::string>>;

Settings SettingsArg(const Napi::Value& value) {
  Settings settings;
  if (value.IsUndefined() || value.IsNull()) return settings;
  RequireType(value.Env(), value.IsArray(), "settings: expected an array of [path, value] pairs");
  Napi::Array pairs = value.As<Napi::Array>();
  for (uint32_t i = 0; i < pairs.Length(); i++) {
    Napi::Value pair = pairs.Get(i);
    RequireType(value.Env(), pair.IsArray() && pair.As<Napi::Array>().Length() == 2, "settings: expected [path, value] pairs");
    settings.emplace_back(StringArg(pair.As<Napi::Array>().Get(0u), "setting path"), StringArg(pair.As<Napi::Array>().Get(1u), "setting value"));
  }
  return settings;
}

void ApplySettings(GObject* object, const Settings& settings) {
  for (const auto& [path, value] : settings) {
    GObject* target = G_OBJECT(g_object_ref(object));
    std::string rest = path;
    for (size_t dot; target != nullptr && (dot = rest.find('.')) != std::string::npos; rest = rest.substr(dot + 1)) {
      const std::string step = rest.substr(0, dot);
      GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(target), step.c_str());
      GObject* next = nullptr;
      if (spec != nullptr && g_type_is_a(spec->value_type, G_TYPE_OBJECT)) g_object_get(target, step.c_str(), &next, nullptr);
      g_object_unref(target);
      target = next;
    }
    if (target == nullptr) continue;
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(target), rest.c_str()) != nullptr) gst_util_set_object_arg(target, rest.c_str(), value.c_str());
    g_object_unref(target);
  }
}

Napi::Value NativePipeline::QueueCreation(Napi::Env env, bool locked, std::function<GstElement*(GError**)> make) {
  RequireOpen(env);
  auto slot = std::make_shared<ObjectSlot>();
  SharedObject pipeline = ShareNew(pipeline_);
  Napi::Value id = Queue(env, [slot, pipeline, locked, make] {
    GError* error = nullptr;
    GstElement* element = make(&error);
    if (element != nullptr && error == nullptr) {
      if (locked) gst_element_set_locked_state(element, TRUE);
      if (gst_bin_add(GST_BIN(pipeline.get()), element)) {
        slot->Fill(element);
        return OperationResult{};
      }
      error = NewGError(ErrorCode::NameInUse, std::string("an element named \"") + GST_OBJECT_NAME(element) + "\" already exists");
      element = nullptr;  // gst_bin_add() sank and dropped it
    }
    if (element != nullptr) gst_object_unref(gst_object_ref_sink(element));
    slot->Fail(error);
    return OperationResult{"", error};
  });
  Napi::Object result = Napi::Object::New(env);
  result.Set("element", NativeObject::NewPending(env, slot));
  result.Set("id", id);
  return result;
}

// addBinLater(description) -> { element, id }: addBin() on the control thread.
// The handle is usable at once (see ObjectSlot); `done` carries a parse error.
Napi::Value NativePipeline::AddBinLater(const Napi::CallbackInfo& info) {
  const std::string description = StringArg(info[0], "description");
  // Locked until syncState(), as addBin() does: a pipeline state change must not start a branch before it is linked.
  return QueueCreation(info.Env(), true, [description](GError** error) {
    return ParseBin(description, error);
  });
}

// addElementLater(factory, name | null, settings?) -> { element, id }: makes the
// element on the control thread (a webrtcbin's creation starts threads and waits
// for them), applies `settings` (SettingsArg) and adds it, not locked (as addElement()).
Napi::Value NativePipeline::AddElementLater(const Napi::CallbackInfo& info) {
  const std::string factory = StringArg(info[0], "factory");
  const std::string name = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  Settings settings = SettingsArg(info[2]);
  return QueueCreation(info.Env(), false, [factory, name, settings](GError** error) -> GstElement* {
    GstElement* element = gst_element_factory_make(factory.c_str(), name.empty() ? nullptr : name.c_str());
    if (element == nullptr) {
      g_set_error(error, GST_PARSE_ERROR, GST_PARSE_ERROR_NO_SUCH_ELEMENT, "no element \"%s\"", factory.c_str());
      return nullptr;
    }
    ApplySettings(G_OBJECT(element), settings);
    return element;
  });
}

// removeElement(element) -> operation id. Takes the element out of its bin at
// once (its name is free again and nothing finds it; its pads are unlinked,
// which does not wait for data), then stops it on the control thread (state
// NULL joins its streaming threads) and drops it there.
Napi::Value NativePipeline::RemoveElement(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectFuture future = NativeObject::Future(info[0], "removeElement");
  auto takeOut = [](GstElement* self) {
    GstObject* parent = gst_object_get_parent(GST_OBJECT(self));
    if (parent == nullptr) return;
    gst_element_set_locked_state(self, TRUE);  // no state change of the pipeline reaches it any more
    gst_bin_remove(GST_BIN(parent), self);
    gst_object_unref(parent);
  };
  if (future.ready != nullptr) {
    RequireType(info.Env(), GST_IS_ELEMENT(future.ready.get()), "removeElement: expected an element");
    takeOut(GST_ELEMENT(future.ready.get()));
  }
  // An element still being created leaves the pipeline on the control thread, right after.
  const bool created = future.ready != nullptr;
  return Queue(info.Env(), [future, created, takeOut] {
    SharedObject element = future.Get();
    if (element == nullptr || !GST_IS_ELEMENT(element.get())) return OperationResult{};
    if (!created) takeOut(GST_ELEMENT(element.get()));
    gst_element_set_state(GST_ELEMENT(element.get()), GST_STATE_NULL);
    return OperationResult{};
  });
}

namespace {

// Links src to sink (elements or pads, in any combination; request pads are
// requested as needed). Null, or the failure (a LinkFailed GError).
GError* LinkObjects(GObject* src, GObject* sink) {
  if (GST_IS_ELEMENT(src) && GST_IS_ELEMENT(sink)) {
    if (gst_element_link(GST_ELEMENT(src), GST_ELEMENT(sink))) return nullptr;
    return NewGError(ErrorCode::LinkFailed, std::string("cannot link ") + GST_OBJECT_NAME(src) + " to " + GST_OBJECT_NAME(sink));
  }
  GstPad* srcPad = GST_IS_PAD(src) ? GST_PAD(gst_object_ref(src)) : nullptr;
  GstPad* sinkPad = GST_IS_PAD(sink) ? GST_PAD(gst_object_ref(sink)) : nullptr;
  if (srcPad == nullptr) srcPad = gst_element_get_compatible_pad(GST_ELEMENT(src), sinkPad, nullptr);
  if (sinkPad == nullptr) sinkPad = gst_element_get_compatible_pad(GST_ELEMENT(sink), srcPad, nullptr);
  GstPadLinkReturn result = (srcPad != nullptr && sinkPad != nullptr) ? gst_pad_link(srcPad, sinkPad) : GST_PAD_LINK_NOFORMAT;
  if (srcPad != nullptr) gst_object_unref(srcPad);
  if (sinkPad != nullptr) gst_object_unref(sinkPad);
  if (!GST_PAD_LINK_FAILED(result)) return nullptr;
  return NewGError(ErrorCode::LinkFailed,
                   std::string("cannot link ") + GST_OBJECT_NAME(src) + " to " + GST_OBJECT_NAME(sink) + ": " + gst_pad_link_get_name(result));
}

bool Linkable(GObject* object) { return object != nullptr && (GST_IS_PAD(object) || GST_IS_ELEMENT(object)); }

}  // namespace

// link(src, sink): elements or pads, in any combination; request pads are requested as needed.
void NativePipeline::Link(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  ObjectRef src = NativeObject::From(info[0]);
  ObjectRef sink = NativeObject::From(info[1]);
  RequireType(env, Linkable(src.get()), "link: source must be an element or a pad");
  RequireType(env, Linkable(sink.get()), "link: sink must be an element or a pad");
  GError* error = LinkObjects(src.get(), sink.get());
  if (error == nullptr) return;
  const std::string message = error->message;
  g_error_free(error);
  throw MakeGstError(env, message, ErrorCode::LinkFailed);
}

// linkLater(src, sink) -> operation id: link() on the control thread, so also
// for handles still being created there (addBinLater, requestPadLater); `done`
// carries a LinkFailed error. Linking takes the pads' and elements' locks,
// which streaming threads (and webrtcbin's own thread) hold.
Napi::Value NativePipeline::LinkLater(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectFuture src = NativeObject::Future(info[0], "linkLater");
  ObjectFuture sink = NativeObject::Future(info[1], "linkLater");
  RequireType(info.Env(), src.ready == nullptr || Linkable(src.ready.get()), "linkLater: source must be an element or a pad");
  RequireType(info.Env(), sink.ready == nullptr || Linkable(sink.ready.get()), "linkLater: sink must be an element or a pad");
  return Queue(info.Env(), [src, sink] {
    SharedObject from = src.Get();
    SharedObject to = sink.Get();
    if (!Linkable(from.get()) || !Linkable(to.get())) return OperationResult{"", NewGError(ErrorCode::LinkFailed, "cannot link: an element or pad was not created or is gone")};
    return OperationResult{"", LinkObjects(from.get(), to.get())};
  });
}

// acceptsCurrentCaps(srcPad, sinkPad) -> whether the sink pad accepts the caps the
// source pad already has (true when it has none yet). gst_pad_link() only
// intersects what the pads' caps queries return, which a ghost pad can answer
// loosely; lib/core/track.ts checks an incoming track's caps with this after
// linking. A query, answered by the elements without waiting for data.
Napi::Value NativePipeline::AcceptsCurrentCaps(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef src = PadArg(info[0], "acceptsCurrentCaps");
  ObjectRef sink = PadArg(info[1], "acceptsCurrentCaps");
  GstCaps* current = gst_pad_get_current_caps(GST_PAD(src.get()));
  if (current == nullptr) return Napi::Boolean::New(info.Env(), true);
  const bool accepted = gst_pad_query_accept_caps(GST_PAD(sink.get()), current);
  gst_caps_unref(current);
  return Napi::Boolean::New(info.Env(), accepted);
}

// unlink(srcPad, sinkPad): undoes a link. Idempotent.
void NativePipeline::Unlink(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef src = PadArg(info[0], "unlink");
  ObjectRef sink = PadArg(info[1], "unlink");
  gst_pad_unlink(GST_PAD(src.get()), GST_PAD(sink.get()));
}

// syncState(element) -> operation id. Starts the element (unlocking its state)
// at its parent's state; `done` carries a StateChangeFailed error if it cannot.
Napi::Value NativePipeline::SyncState(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectFuture future = NativeObject::Future(info[0], "syncState");  // an element created by an earlier task
  return Queue(info.Env(), [future] {
    SharedObject element = future.Get();
    if (element == nullptr || !GST_IS_ELEMENT(element.get())) return OperationResult{"", NewGError(ErrorCode::Closed, "the element was not created or is gone")};
    GstElement* self = GST_ELEMENT(element.get());
    gst_element_set_locked_state(self, FALSE);
    if (gst_element_sync_state_with_parent(self)) return OperationResult{};
    return OperationResult{"", NewGError(ErrorCode::StateChangeFailed, std::string("cannot start ") + GST_OBJECT_NAME(self))};
  });
}

// restartElement(element) -> operation id. Stops it to READY and starts it with
// its parent again, on the control thread: a source whose task paused (say, a
// buffer it pushed came back flushing) runs again, from fresh sticky events.
Napi::Value NativePipeline::RestartElement(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  SharedObject element = Share(ElementArg(info[0], "element"));
  return Queue(info.Env(), [element] {
    GstElement* self = GST_ELEMENT(element.get());
    gst_element_set_state(self, GST_STATE_READY);
    if (gst_element_sync_state_with_parent(self)) return OperationResult{};
    return OperationResult{"", NewGError(ErrorCode::StateChangeFailed, std::string("cannot restart ") + GST_OBJECT_NAME(self))};
  });
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

// unblockPad(pad) -> operation id. Lets an incoming track's media flow; queued
// behind the syncState() of the branch it was linked to, so the first buffer
// (a keyframe) reaches a started branch.
Napi::Value NativePipeline::UnblockPad(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef padRef = NativeObject::From(info[0]);
  RequireType(info.Env(), padRef != nullptr && GST_IS_PAD(padRef.get()), "unblockPad: expected a pad");
  SharedObject pad = Share(std::move(padRef));
  return Queue(info.Env(), [pad] {
    gulong id = GPOINTER_TO_SIZE(g_object_steal_qdata(pad.get(), BlockProbeQuark()));
    if (id != 0) gst_pad_remove_probe(GST_PAD(pad.get()), id);
    return OperationResult{};
  });
}

// setProperty(object, name, value) -> operation id. The value is converted here
// (a wrong type throws TypeError at once) and set on the control thread: setting
// a property takes the object's lock, which a streaming thread can hold.
Napi::Value NativePipeline::SetProperty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  ObjectRef objectRef = NativeObject::From(info[0]);
  RequireType(env, objectRef != nullptr, "setProperty: expected a GStreamer object");
  const std::string name = StringArg(info[1], "property name");
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(objectRef.get()), name.c_str());
  if (spec == nullptr) throw Napi::TypeError::New(env, std::string(G_OBJECT_TYPE_NAME(objectRef.get())) + " has no property '" + name + "'");
  if ((spec->flags & G_PARAM_WRITABLE) == 0 || (spec->flags & G_PARAM_CONSTRUCT_ONLY) != 0)
    throw Napi::TypeError::New(env, "property '" + name + "' is not writable");
  std::shared_ptr<GValue> value(new GValue(G_VALUE_INIT), [](GValue* v) {
    if (G_IS_VALUE(v)) g_value_unset(v);
    delete v;
  });
  g_value_init(value.get(), spec->value_type);
  JsToGValue(info[2], value.get(), name.c_str());
  SharedObject object = Share(std::move(objectRef));
  return Queue(env, [object, name, value] {
    g_object_set_property(object.get(), name.c_str(), value.get());
    return OperationResult{};
  });
}

// sendEos() -> operation id; `done` { result: 'sent' | 'refused' }.
Napi::Value NativePipeline::SendEos(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  SharedObject pipeline = ShareNew(pipeline_);
  return Queue(info.Env(), [pipeline] {
    return OperationResult{gst_element_send_event(GST_ELEMENT(pipeline.get()), gst_event_new_eos()) ? "sent" : "refused"};
  });
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
