// Module entry: initialises GStreamer once per process and the addon once per
// environment (main thread or worker), and closes that environment's pipelines
// when it goes away.
#include <gst/gst.h>
#include <napi.h>

#include <chrono>
#include <cstdio>
#include <mutex>

#include "addon.h"
#include "bin_elements.h"
#include "pacer.h"
#include "data_channel.h"
#include "dtls_certificate.h"
#include "gop_cache.h"
#include "gst_error.h"
#include "ice_transports.h"
#include "sctp_transport.h"
#include "object.h"
#include "pipeline.h"
#include "warm_up.h"
#include "webrtcbin.h"

namespace {

std::once_flag gstInitOnce;
GError* gstInitError = nullptr;

// How long process exit (or a worker's termination) waits for pipelines to stop.
// A webrtcbin whose own thread is stuck never lets its pipeline reach NULL; its
// control thread is then left behind rather than hanging the exit.
constexpr std::chrono::milliseconds kTeardownBound{3000};

void CloseEnvironment(AddonData* addon) {
  // Copy: Shutdown() removes each pipeline from the set.
  std::set<NativePipeline*> open = addon->pipelines;
  for (NativePipeline* pipeline : open) pipeline->Shutdown();
  // Also waits for pipelines JS closed earlier that are still tearing down.
  const int stuck = addon->threads->WaitAll(kTeardownBound);
  if (stuck > 0)
    std::fprintf(stderr, "gst-webrtc-node: %d pipeline(s) did not stop within %lld ms; exiting without them\n", stuck,
                 static_cast<long long>(kTeardownBound.count()));
}

void SetErrorClass(const Napi::CallbackInfo& info) {
  RequireType(info.Env(), info[0].IsFunction(), "expected a class");
  AddonData::Of(info.Env())->gstErrorClass = Napi::Persistent(info[0].As<Napi::Function>());
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  guint major, minor, micro, nano;
  gst_version(&major, &minor, &micro, &nano);
  Napi::Object version = Napi::Object::New(info.Env());
  version.Set("major", major);
  version.Set("minor", minor);
  version.Set("micro", micro);
  return version;
}

// hasElement(factory): whether a plugin providing that element is installed.
Napi::Value HasElement(const Napi::CallbackInfo& info) {
  RequireType(info.Env(), info[0].IsString(), "factory name must be a string");
  GstElementFactory* factory = gst_element_factory_find(info[0].As<Napi::String>().Utf8Value().c_str());
  if (factory != nullptr) gst_object_unref(factory);
  return Napi::Boolean::New(info.Env(), factory != nullptr);
}

// controlThreads(): pipelines of this environment whose control thread runs
// (open, or closed and still stopping). Lets a leak check wait for teardown.
Napi::Value ControlThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), AddonData::Of(info.Env())->threads->Running());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  std::call_once(gstInitOnce, [] { gst_init_check(nullptr, nullptr, &gstInitError); });
  if (gstInitError != nullptr) throw MakeGstError(env, gstInitError);

  auto* addon = new AddonData();
  env.SetInstanceData<AddonData>(addon);
  env.AddCleanupHook(CloseEnvironment, addon);

  NativeObject::Init(env, exports);
  NativePipeline::Init(env, exports);
  NativeWebRtcBin::Init(env, exports);
  InitDataChannel(env, exports);
  InitGopCache(env, exports);
  InitWarmUp(env, exports);
  InitBinElements(env, exports);
  InitPacer(env, exports);
  InitIceTransports(env, exports);
  InitSctpTransport(env, exports);
  InitDtlsCertificate(env, exports);
  exports.Set("setErrorClass", Napi::Function::New<SetErrorClass>(env, "setErrorClass"));
  exports.Set("version", Napi::Function::New<Version>(env, "version"));
  exports.Set("hasElement", Napi::Function::New<HasElement>(env, "hasElement"));
  exports.Set("controlThreads", Napi::Function::New<ControlThreads>(env, "controlThreads"));
  return exports;
}

}  // namespace

NODE_API_MODULE(gst_webrtc_node, Init)
