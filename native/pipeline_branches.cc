// NativePipeline's operations for dynamic pipelines (see pipeline.h).
#include <atomic>
#include <string>

#include "args.h"
#include "gst_error.h"
#include "object.h"
#include "pipeline.h"

// Branches added and removed while the pipeline plays.
//
// These are the steps TypeScript composes into a safe branch removal (block or
// idle the feeding pad, unlink, stop, remove, release) and into recording
// (EOS through one branch, not the whole pipeline). Each one is a single
// GStreamer call plus what it needs to never block a GStreamer thread on JS.

namespace {

// One-shot context of an idle probe: the probe can run on the calling thread and,
// concurrently, on the streaming thread; only the first run acts.
struct IdleUnlink {
  DispatchTarget* target;
  std::atomic<bool> done{false};
  static void Free(gpointer data) {
    auto* self = static_cast<IdleUnlink*>(data);
    DispatchTarget::FreeNotify(self->target);
    delete self;
  }
};

GstPadProbeReturn OnPadIdle(GstPad* pad, GstPadProbeInfo*, gpointer data) {
  auto* context = static_cast<IdleUnlink*>(data);
  if (context->done.exchange(true)) return GST_PAD_PROBE_REMOVE;
  GstPad* peer = gst_pad_get_peer(pad);
  if (peer != nullptr) {
    if (GST_PAD_IS_SRC(pad)) gst_pad_unlink(pad, peer);
    else gst_pad_unlink(peer, pad);
    gst_object_unref(peer);
  }
  context->target->Post("unlinked", nullptr);
  return GST_PAD_PROBE_REMOVE;
}

struct EosWatch {
  DispatchTarget* target;
  bool drop;
  static void Free(gpointer data) {
    auto* self = static_cast<EosWatch*>(data);
    DispatchTarget::FreeNotify(self->target);
    delete self;
  }
};

GstPadProbeReturn OnPadEvent(GstPad*, GstPadProbeInfo* info, gpointer data) {
  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) != GST_EVENT_EOS) return GST_PAD_PROBE_OK;
  auto* watch = static_cast<EosWatch*>(data);
  watch->target->Post("eos", nullptr);
  return watch->drop ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

void SendEosNow(GstElement*, gpointer pad) { gst_pad_send_event(GST_PAD(pad), gst_event_new_eos()); }

// A ghost sink pad whose branch failing (not-negotiated, an error, EOS) must not
// fail the element pushing into it: a tee stops pushing to every branch, and
// its source stops, as soon as one branch returns an error.
struct FlowGuard {
  DispatchTarget* target;
  std::atomic<bool> reported{false};
  static void Free(gpointer data) {
    auto* self = static_cast<FlowGuard*>(data);
    DispatchTarget::FreeNotify(self->target);
    delete self;
  }
};

GstFlowReturn Absorb(FlowGuard* guard, GstFlowReturn result) {
  if (result == GST_FLOW_OK) return result;
  // Flushing is a branch being stopped on purpose: absorbed, not reported.
  if (result != GST_FLOW_FLUSHING && !guard->reported.exchange(true))
    guard->target->Post("flow-error", gst_structure_new("flow", "flow", G_TYPE_STRING, gst_flow_get_name(result), nullptr));
  return GST_FLOW_OK;
}

GQuark FlowGuardQuark() {
  static GQuark quark = g_quark_from_static_string("gst-webrtc-node-flow-guard");
  return quark;
}

FlowGuard* GuardOf(GstPad* pad) { return static_cast<FlowGuard*>(g_object_get_qdata(G_OBJECT(pad), FlowGuardQuark())); }

GstFlowReturn GuardedChain(GstPad* pad, GstObject* parent, GstBuffer* buffer) {
  return Absorb(GuardOf(pad), gst_proxy_pad_chain_default(pad, parent, buffer));
}

GstFlowReturn GuardedChainList(GstPad* pad, GstObject* parent, GstBufferList* list) {
  return Absorb(GuardOf(pad), gst_proxy_pad_chain_list_default(pad, parent, list));
}

}  // namespace

// getPad(element, name) -> the element's always pad of that name (e.g. a bin's
// ghost `src`), or null.
Napi::Value NativePipeline::GetPad(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef element = ElementArg(info[0], "getPad");
  GstPad* pad = gst_element_get_static_pad(GST_ELEMENT(element.get()), StringArg(info[1], "pad name").c_str());
  if (pad == nullptr) return info.Env().Null();
  Napi::Object result = NativeObject::New(info.Env(), G_OBJECT(pad));
  gst_object_unref(pad);
  return result;
}

// requestPad(element, template) -> a new request pad, e.g. a tee's `src_%u`.
// Give it back with releasePad() once it is unlinked.
Napi::Value NativePipeline::RequestPad(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef element = ElementArg(info[0], "requestPad");
  const std::string name = StringArg(info[1], "pad template");
  GstPad* pad = gst_element_request_pad_simple(GST_ELEMENT(element.get()), name.c_str());
  if (pad == nullptr)
    throw MakeGstError(info.Env(), std::string(GST_OBJECT_NAME(element.get())) + " gave no pad for template " + name, ErrorCode::NoSuchPad);
  Napi::Object result = NativeObject::New(info.Env(), G_OBJECT(pad));
  gst_object_unref(pad);
  return result;
}

// requestPadLater(element, template) -> { pad, id }: requestPad() on the control
// thread (a webrtcbin's sink pad makes a transceiver under webrtcbin's lock; a
// tee's takes the tee's lock, which its streaming thread holds). The handle is
// usable at once, as addBinLater()'s (see ObjectSlot); `done` carries NoSuchPad.
Napi::Value NativePipeline::RequestPadLater(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env);
  ObjectFuture element = NativeObject::Future(info[0], "requestPadLater");
  RequireType(env, element.ready == nullptr || GST_IS_ELEMENT(element.ready.get()), "requestPadLater: expected an element");
  const std::string name = StringArg(info[1], "pad template");
  auto slot = std::make_shared<ObjectSlot>();
  Napi::Value id = Queue(env, [element, name, slot] {
    SharedObject owner = element.Get();
    GstPad* pad = owner != nullptr && GST_IS_ELEMENT(owner.get()) ? gst_element_request_pad_simple(GST_ELEMENT(owner.get()), name.c_str()) : nullptr;
    if (pad == nullptr) {
      GError* error = NewGError(ErrorCode::NoSuchPad, (owner != nullptr ? std::string(GST_OBJECT_NAME(owner.get())) : std::string("an element not created")) +
                                                          " gave no pad for template " + name);
      slot->Fail(error);
      return OperationResult{"", error};
    }
    slot->Fill(pad);
    gst_object_unref(pad);  // its element holds it
    return OperationResult{};
  });
  Napi::Object result = Napi::Object::New(env);
  result.Set("pad", NativeObject::NewPending(env, slot));
  result.Set("id", id);
  return result;
}

// releasePad(pad): returns a request pad to its element. Idempotent.
void NativePipeline::ReleasePad(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef pad = PadArg(info[0], "releasePad");
  GstElement* parent = gst_pad_get_parent_element(GST_PAD(pad.get()));
  if (parent == nullptr) return;  // already released
  gst_element_release_request_pad(parent, GST_PAD(pad.get()));
  gst_object_unref(parent);
}

// unlinkWhenIdle(pad) -> target id. Unlinks the pad from its peer as soon as no
// data flows through it (an idle probe: at once when idle, else right after the
// buffer being pushed), then posts `unlinked` to the returned target. After
// that, the branch can be stopped without a flushing pad reaching the pusher.
Napi::Value NativePipeline::UnlinkWhenIdle(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef pad = PadArg(info[0], "unlinkWhenIdle");
  const uint32_t target = dispatcher_->NewTargetId();
  auto* context = new IdleUnlink{DispatchTarget::New(dispatcher_, target)};
  gst_pad_add_probe(GST_PAD(pad.get()), GST_PAD_PROBE_TYPE_IDLE, OnPadIdle, context, IdleUnlink::Free);
  return Napi::Number::New(info.Env(), target);
}

// watchEos(pad, drop) -> target id. Posts `eos` to the returned target each time
// end-of-stream passes the pad; with drop=true it also stops it there (a source
// that ends must not end the streams of everything downstream).
Napi::Value NativePipeline::WatchEos(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef pad = PadArg(info[0], "watchEos");
  const uint32_t target = dispatcher_->NewTargetId();
  auto* watch = new EosWatch{DispatchTarget::New(dispatcher_, target), info[1].ToBoolean().Value()};
  gst_pad_add_probe(GST_PAD(pad.get()), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, OnPadEvent, watch, EosWatch::Free);
  return Napi::Number::New(info.Env(), target);
}

// sendPadEos(pad): sends end-of-stream into a sink pad (one branch, not the whole
// pipeline), from GStreamer's thread pool: a serialized event waits for the
// pad's streaming thread, which may be held up downstream (a muxer waiting for
// its other inputs), and the JS thread must never wait for that.
Napi::Value NativePipeline::SendPadEos(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef pad = PadArg(info[0], "sendPadEos");
  RequireType(info.Env(), GST_PAD_IS_SINK(pad.get()), "sendPadEos: expected a sink pad");
  GstElement* parent = gst_pad_get_parent_element(GST_PAD(pad.get()));
  if (parent == nullptr) return Napi::Boolean::New(info.Env(), false);
  gst_element_call_async(parent, SendEosNow, gst_object_ref(pad.get()), gst_object_unref);
  gst_object_unref(parent);
  return Napi::Boolean::New(info.Env(), true);
}

// forceKeyUnit(pad) -> whether the request was sent (false for a pad outside
// any element). Asks the encoder upstream of the pad for a keyframe with its
// headers (SPS/PPS), as gst_video_event_new_upstream_force_key_unit() would; a
// src pad receives the event, a sink pad pushes it to its peer. Sent from
// GStreamer's thread pool, as sendPadEos: the event passes the pads' and probes'
// locks on its way upstream (a tee's, a keyframe limiter's), which streaming
// threads hold, and the JS thread must not wait for them.
static void SendForceKeyUnitNow(GstElement*, gpointer pad) {
  GstStructure* request = gst_structure_new("GstForceKeyUnit", "running-time", GST_TYPE_CLOCK_TIME, GST_CLOCK_TIME_NONE, "all-headers",
                                            G_TYPE_BOOLEAN, TRUE, "count", G_TYPE_UINT, 0u, nullptr);
  GstEvent* event = gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, request);
  if (GST_PAD_IS_SRC(pad)) gst_pad_send_event(GST_PAD(pad), event);
  else gst_pad_push_event(GST_PAD(pad), event);
}

Napi::Value NativePipeline::ForceKeyUnit(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectFuture future = NativeObject::Future(info[0], "forceKeyUnit");
  if (future.ready == nullptr) {
    // A pad requestPadLater() is still making: sent from the control thread, right after.
    Queue(info.Env(), [future] {
      SharedObject pad = future.Get();
      if (pad != nullptr && GST_IS_PAD(pad.get())) SendForceKeyUnitNow(nullptr, pad.get());
      return OperationResult{};
    });
    return Napi::Boolean::New(info.Env(), true);
  }
  RequireType(info.Env(), GST_IS_PAD(future.ready.get()), "forceKeyUnit: expected a pad");
  GstPad* pad = GST_PAD(future.ready.get());
  GstElement* parent = gst_pad_get_parent_element(pad);
  if (parent == nullptr) return Napi::Boolean::New(info.Env(), false);
  gst_element_call_async(parent, SendForceKeyUnitNow, gst_object_ref(pad), gst_object_unref);
  gst_object_unref(parent);
  return Napi::Boolean::New(info.Env(), true);
}

// countElements() -> how many elements the pipeline holds, at any depth (for leak checks).
Napi::Value NativePipeline::CountElements(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  int count = 0;
  GstIterator* iterator = gst_bin_iterate_recurse(GST_BIN(pipeline_));
  while (gst_iterator_foreach(iterator, [](const GValue*, gpointer total) { ++*static_cast<int*>(total); }, &count) == GST_ITERATOR_RESYNC) {
    count = 0;
    gst_iterator_resync(iterator);
  }
  gst_iterator_free(iterator);
  return Napi::Number::New(info.Env(), count);
}

// isolateFlow(ghostPad) -> target id (the same one on a second call). From now on whatever
// the branch behind this ghost sink pad (or the element a ghost src pad feeds)
// returns, the pusher sees OK: a failing branch (a viewer
// whose caps were refused, one that reached EOS) cannot stop a tee and the
// source feeding everyone else. The first failure other than flushing is
// posted as `flow-error` { flow } to the returned target, once.
Napi::Value NativePipeline::IsolateFlow(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef padRef = PadArg(info[0], "isolateFlow");
  auto* ghost = GST_PAD(padRef.get());
  RequireType(info.Env(), GST_IS_GHOST_PAD(ghost), "isolateFlow: expected a ghost pad (a branch's input or output)");
  // A branch's output: guard the ghost pad's internal pad, which the branch pushes into.
  GstPad* internal = GST_PAD_IS_SRC(ghost) ? GST_PAD(gst_proxy_pad_get_internal(GST_PROXY_PAD(ghost))) : nullptr;
  GstPad* pad = internal != nullptr ? internal : ghost;
  if (internal != nullptr) gst_object_unref(internal);  // the ghost pad keeps it alive
  // Safe whatever the caller does: the guard is installed once per pad and never
  // replaced or freed before the pad (a streaming thread may be inside
  // GuardedChain with it), so a second call is a no-op that returns the same
  // target. The pad's lock makes check-and-install atomic against a concurrent call.
  GST_OBJECT_LOCK(pad);
  FlowGuard* guard = GuardOf(pad);
  const bool installed = guard != nullptr;
  if (!installed) {
    guard = new FlowGuard{DispatchTarget::New(dispatcher_, dispatcher_->NewTargetId())};
    // Set before the functions that read it; freed with the pad.
    g_object_set_qdata_full(G_OBJECT(pad), FlowGuardQuark(), guard, FlowGuard::Free);
  }
  const uint32_t target = guard->target->target;
  GST_OBJECT_UNLOCK(pad);
  if (!installed) {
    gst_pad_set_chain_list_function(pad, GuardedChainList);
    gst_pad_set_chain_function(pad, GuardedChain);
  }
  return Napi::Number::New(info.Env(), target);
}

// removeGhostPad(pad): removes a bin's ghost pad, freeing the pad it stood for.
// A parsed bin ghosts every unlinked pad, also the input of an element that
// waits for a dynamic pad (`rtspsrc ! rtph264depay`); that link can only be made
// once the ghost pad is gone.
void NativePipeline::RemoveGhostPad(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef padRef = PadArg(info[0], "removeGhostPad");
  auto* pad = GST_PAD(padRef.get());
  RequireType(info.Env(), GST_IS_GHOST_PAD(pad), "removeGhostPad: expected a ghost pad");
  GstElement* parent = gst_pad_get_parent_element(pad);
  if (parent == nullptr) return;  // already removed
  gst_element_remove_pad(parent, pad);
  gst_object_unref(parent);
}
