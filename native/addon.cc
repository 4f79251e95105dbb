// Module entry: initialises GStreamer once per process and the addon once per
// environment (main thread or worker), and closes that environment's pipelines
// when it goes away.
#include <gst/gst.h>
#include <napi.h>

#include <mutex>

#include "addon.h"
#include "data_channel.h"
#include "gst_error.h"
#include "object.h"
#include "pipeline.h"
#include "warm_up.h"
#include "webrtcbin.h"

void InitLatencyProbe(Napi::Env env, Napi::Object exports);  // native/latency_probe.cc

namespace {

std::once_flag gstInitOnce;
GError* gstInitError = nullptr;

void CloseEnvironment(AddonData* addon) {
  // Copy: Shutdown() removes each pipeline from the set.
  std::set<NativePipeline*> open = addon->pipelines;
  for (NativePipeline* pipeline : open) pipeline->Shutdown();
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
  InitLatencyProbe(env, exports);
  InitWarmUp(env, exports);
  exports.Set("setErrorClass", Napi::Function::New<SetErrorClass>(env, "setErrorClass"));
  exports.Set("version", Napi::Function::New<Version>(env, "version"));
  exports.Set("hasElement", Napi::Function::New<HasElement>(env, "hasElement"));
  return exports;
}

}  // namespace

NODE_API_MODULE(gst_webrtc_node, Init)
