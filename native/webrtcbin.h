// NativeWebRtcBin: attaches to a webrtcbin element inside a NativePipeline.
// Its signals (negotiation-needed, ice-candidate, state notifications, incoming
// pads and data channels) and its GstPromise replies become events on the
// pipeline's Dispatcher, under this bin's target id. Action signals are methods.
#pragma once

#include <gst/gst.h>
#include <napi.h>

#include <vector>

#include "dispatcher.h"

class NativeWebRtcBin : public Napi::ObjectWrap<NativeWebRtcBin> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);

  // new NativeWebRtcBin(pipeline: NativePipeline, element: NativeObject)
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
  Napi::Value CreateDataChannel(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);

  void RequireOpen(Napi::Env env) const;
  GstPromise* NewPromise(const Napi::Value& id) const;
  void SetDescription(const Napi::CallbackInfo& info, const char* signal);
  void Connect(const char* signal, GCallback callback);
  void Disconnect();
  void Release();

  GstElement* webrtcbin_ = nullptr;
  uint32_t id_ = 0;                   // this bin's target id on the pipeline's dispatcher
  DispatchTarget* target_ = nullptr;
  std::vector<gulong> handlers_;
};
