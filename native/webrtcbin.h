// NativeWebRtcBin: attaches to a webrtcbin element inside a NativePipeline.
// Its signals (negotiation-needed, ice-candidate, state notifications, incoming
// pads and data channels) and its GstPromise replies become events on the
// pipeline's Dispatcher, under this bin's target id. Action signals are methods.
//
// The actions that take webrtcbin's lock (create-offer, create-answer,
// set-*-description, add-ice-candidate, get-stats) are emitted on a thread of
// this webrtcbin's own, in call order: webrtcbin's own thread can hold that lock
// for tens of milliseconds, and the JS thread must not wait for it. A thread per
// webrtcbin, not the pipeline's control thread: one busy or stuck webrtcbin (its
// own thread spinning with the lock held) then delays only its own actions, not
// the other webrtcbins of the pipeline (a fan-out's viewers) nor the pipeline's
// state changes. Each action still runs after the pipeline operations called
// before it (a barrier on the pipeline's control thread). Every action answers
// with a `reply` event { id, result, reply? }.
#pragma once

#include <gst/gst.h>
#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "control_thread.h"
#include "dispatcher.h"
#include "object.h"

class NativeWebRtcBin : public Napi::ObjectWrap<NativeWebRtcBin> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);

  // new NativeWebRtcBin(pipeline: NativePipeline, element: NativeObject). The
  // element may still be being created (NativePipeline.addElementLater): our
  // handlers are then connected on the control thread, right after it is made.
  explicit NativeWebRtcBin(const Napi::CallbackInfo& info);
  ~NativeWebRtcBin() override;

 private:
  Napi::Value Id(const Napi::CallbackInfo& info);
  void CreateOffer(const Napi::CallbackInfo& info);
  void CreateAnswer(const Napi::CallbackInfo& info);
  void SetLocalDescription(const Napi::CallbackInfo& info);
  void SetRemoteDescription(const Napi::CallbackInfo& info);
  Napi::Value AddIceCandidate(const Napi::CallbackInfo& info);
  void GetStats(const Napi::CallbackInfo& info);
  Napi::Value AddTransceiver(const Napi::CallbackInfo& info);
  Napi::Value GetTransceivers(const Napi::CallbackInfo& info);
  Napi::Value AddTurnServer(const Napi::CallbackInfo& info);
  Napi::Value PendingSinkCaps(const Napi::CallbackInfo& info);
  Napi::Value SinkPads(const Napi::CallbackInfo& info);
  Napi::Value UpstreamLive(const Napi::CallbackInfo& info);
  void UnpaceLiveInputsLater(const Napi::CallbackInfo& info);
  Napi::Value CreateDataChannel(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);

  void RequireOpen(Napi::Env env) const;
  // JS thread: the element, for the synchronous methods; one still being created is waited for.
  GstElement* Element(Napi::Env env);
  // For a queued task: the element, or its creation's slot.
  ObjectFuture ElementFuture() const;
  struct Attachment;
  struct Barrier;
  // JS thread: a barrier the pipeline's control thread passes once it has run what is queued on it now.
  std::shared_ptr<Barrier> PipelineBarrier() const;
  GstPromise* NewPromise(const Napi::Value& id) const;
  // Emits `signal` (arguments, then the promise) on the control thread.
  void EmitWithPromise(Napi::Env env, const Napi::Value& id, std::function<void(GstElement*, GstPromise*)> emit);
  void SetDescription(const Napi::CallbackInfo& info, const char* signal);
  void Connect(const char* signal, GCallback callback);
  void Release();

  GstElement* webrtcbin_ = nullptr;  // JS thread's reference; null while pending or once released
  std::shared_ptr<ObjectSlot> pending_;  // the creation of an element made by addElementLater(), until JS needs it
  std::shared_ptr<Attachment> attachment_;  // for a pending element: the handlers connected on the control thread
  std::shared_ptr<Barrier> attached_;       // passed once they are connected
  bool released_ = false;
  std::shared_ptr<std::atomic<bool>> unpaceQueued_ = std::make_shared<std::atomic<bool>>(false);
  uint32_t id_ = 0;                   // this bin's target id on the pipeline's dispatcher
  DispatchTarget* target_ = nullptr;
  std::shared_ptr<ControlThread> control_;  // the pipeline's
  std::shared_ptr<ControlThread> actions_;  // this webrtcbin's: its actions, then the release of our reference
  std::vector<gulong> handlers_;
};
