// NativePipeline: owns a GstPipeline, forwards its bus messages to JS through a
// Dispatcher, and offers the few element operations the TypeScript layer builds
// on (find, add a bin from a description, link, unblock a pad, set state).
//
// Threads: what can wait on a GStreamer lock or a state change (set state, sync
// an element's state, remove an element, unblock a pad, send EOS, close, latency
// recalculation, clock-lost recovery) runs on the pipeline's ControlThread, in
// call order. Such a method returns an operation id at once; the event `done`
// { id, result?, error? } follows on target 0. What stays on the JS thread only
// creates, finds or links objects.
#pragma once

#include <gst/gst.h>
#include <napi.h>

#include <functional>
#include <memory>
#include <string>

#include "control_thread.h"
#include "dispatcher.h"

// What a queued operation reports in its `done` event.
struct OperationResult {
  std::string result;       // e.g. a state change's "success" / "async"; empty for none
  GError* error = nullptr;  // owned; set when the operation failed
};

class NativePipeline : public Napi::ObjectWrap<NativePipeline> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static NativePipeline* From(const Napi::Value& value);

  // new NativePipeline(description: string | null, onEvent: (target, type, data) => void)
  explicit NativePipeline(const Napi::CallbackInfo& info);
  ~NativePipeline() override;

  GstPipeline* pipeline() const { return pipeline_; }
  Dispatcher* dispatcher() const { return dispatcher_; }
  const std::shared_ptr<ControlThread>& control() const { return control_; }
  // JS thread. Idempotent, returns at once: events stop, and the control thread
  // stops the pipeline (state NULL), detaches and frees it, then ends.
  void Shutdown();

 private:
  void RequireOpen(Napi::Env env) const;
  // JS thread. Queues `operation` on the control thread; returns its id (a JS number).
  Napi::Value Queue(Napi::Env env, std::function<OperationResult()> operation);
  Napi::Value SetState(const Napi::CallbackInfo& info);
  Napi::Value GetState(const Napi::CallbackInfo& info);
  Napi::Value GetElement(const Napi::CallbackInfo& info);
  Napi::Value ElementsByFactory(const Napi::CallbackInfo& info);
  Napi::Value AddBin(const Napi::CallbackInfo& info);
  Napi::Value AddElement(const Napi::CallbackInfo& info);
  Napi::Value AddBinLater(const Napi::CallbackInfo& info);
  Napi::Value AddElementLater(const Napi::CallbackInfo& info);
  // JS thread: queues a task that makes an element, configures it and adds it
  // (`locked`: its state locked until syncState()) to the pipeline; returns { element: pending handle, id }.
  Napi::Value QueueCreation(Napi::Env env, bool locked, std::function<GstElement*(GError**)> make);
  Napi::Value RemoveElement(const Napi::CallbackInfo& info);
  void Link(const Napi::CallbackInfo& info);
  Napi::Value AcceptsCurrentCaps(const Napi::CallbackInfo& info);
  void Unlink(const Napi::CallbackInfo& info);
  Napi::Value SyncState(const Napi::CallbackInfo& info);
  Napi::Value RestartElement(const Napi::CallbackInfo& info);
  void BlockPad(const Napi::CallbackInfo& info);
  Napi::Value UnblockPad(const Napi::CallbackInfo& info);
  Napi::Value SendEos(const Napi::CallbackInfo& info);
  Napi::Value SetProperty(const Napi::CallbackInfo& info);
  void SetKeepAlive(const Napi::CallbackInfo& info);
  Napi::Value Clock(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);
  // Dynamic pipelines (adding and removing branches while playing).
  Napi::Value GetPad(const Napi::CallbackInfo& info);
  Napi::Value RequestPad(const Napi::CallbackInfo& info);
  Napi::Value RequestPadLater(const Napi::CallbackInfo& info);
  Napi::Value LinkLater(const Napi::CallbackInfo& info);
  void ReleasePad(const Napi::CallbackInfo& info);
  Napi::Value UnlinkWhenIdle(const Napi::CallbackInfo& info);
  Napi::Value WatchEos(const Napi::CallbackInfo& info);
  Napi::Value SendPadEos(const Napi::CallbackInfo& info);
  Napi::Value ForceKeyUnit(const Napi::CallbackInfo& info);
  Napi::Value LimitKeyframeRequests(const Napi::CallbackInfo& info);  // keyframe_requests.cc
  Napi::Value KeyframeRequestCounts(const Napi::CallbackInfo& info);  // keyframe_requests.cc
  void DropUntilKeyframe(const Napi::CallbackInfo& info);             // keyframe_requests.cc
  Napi::Value CountElements(const Napi::CallbackInfo& info);
  Napi::Value IsolateFlow(const Napi::CallbackInfo& info);
  void RemoveGhostPad(const Napi::CallbackInfo& info);

  static GstBusSyncReply OnBusMessage(GstBus* bus, GstMessage* message, gpointer self);

  GstPipeline* pipeline_ = nullptr;  // null once closed
  Dispatcher* dispatcher_ = nullptr;
  std::shared_ptr<ControlThread> control_;
  uint32_t nextOperation_ = 1;
};

// Holds a src pad's buffers back until JS links it; posts `type` with the pad
// and its caps when the first buffer arrives. Used for webrtcbin's incoming tracks.
void BlockPadUntilLinked(GstPad* pad, const DispatchTarget& target, const char* type);
