// NativePipeline: owns a GstPipeline, forwards its bus messages to JS through a
// Dispatcher, and offers the few element operations the TypeScript layer builds
// on (find, add a bin from a description, link, unblock a pad, set state).
#pragma once

#include <gst/gst.h>
#include <napi.h>

#include "dispatcher.h"

class NativePipeline : public Napi::ObjectWrap<NativePipeline> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static NativePipeline* From(const Napi::Value& value);

  // new NativePipeline(description: string | null, onEvent: (target, type, data) => void)
  explicit NativePipeline(const Napi::CallbackInfo& info);
  ~NativePipeline() override;

  GstPipeline* pipeline() const { return pipeline_; }
  Dispatcher* dispatcher() const { return dispatcher_; }
  // Idempotent. Stops the pipeline (state NULL), detaches everything, drops events.
  void Shutdown();

 private:
  void RequireOpen(Napi::Env env) const;
  Napi::Value SetState(const Napi::CallbackInfo& info);
  Napi::Value GetState(const Napi::CallbackInfo& info);
  Napi::Value GetElement(const Napi::CallbackInfo& info);
  Napi::Value ElementsByFactory(const Napi::CallbackInfo& info);
  Napi::Value AddBin(const Napi::CallbackInfo& info);
  Napi::Value AddElement(const Napi::CallbackInfo& info);
  void RemoveElement(const Napi::CallbackInfo& info);
  void Link(const Napi::CallbackInfo& info);
  void SyncState(const Napi::CallbackInfo& info);
  void BlockPad(const Napi::CallbackInfo& info);
  void UnblockPad(const Napi::CallbackInfo& info);
  Napi::Value SendEos(const Napi::CallbackInfo& info);
  void RecalculateLatency(const Napi::CallbackInfo& info);
  void SetKeepAlive(const Napi::CallbackInfo& info);
  Napi::Value Clock(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);
  // Dynamic pipelines (adding and removing branches while playing).
  Napi::Value GetPad(const Napi::CallbackInfo& info);
  Napi::Value RequestPad(const Napi::CallbackInfo& info);
  void ReleasePad(const Napi::CallbackInfo& info);
  Napi::Value UnlinkWhenIdle(const Napi::CallbackInfo& info);
  Napi::Value WatchEos(const Napi::CallbackInfo& info);
  Napi::Value SendPadEos(const Napi::CallbackInfo& info);
  Napi::Value ForceKeyUnit(const Napi::CallbackInfo& info);
  Napi::Value CountElements(const Napi::CallbackInfo& info);
  Napi::Value IsolateFlow(const Napi::CallbackInfo& info);
  void RemoveGhostPad(const Napi::CallbackInfo& info);

  static GstBusSyncReply OnBusMessage(GstBus* bus, GstMessage* message, gpointer self);

  GstPipeline* pipeline_ = nullptr;
  Dispatcher* dispatcher_ = nullptr;
};

// Holds a src pad's buffers back until JS links it; posts `type` with the pad
// and its caps when the first buffer arrives. Used for webrtcbin's incoming tracks.
void BlockPadUntilLinked(GstPad* pad, const DispatchTarget& target, const char* type);
