// Per-environment state of the addon (one per Node.js main thread or worker).
#pragma once

#include <napi.h>

#include <set>

class NativePipeline;

struct AddonData {
  Napi::FunctionReference objectConstructor;    // NativeObject
  Napi::FunctionReference pipelineConstructor;  // NativePipeline
  Napi::FunctionReference webRtcBinConstructor; // NativeWebRtcBin
  Napi::FunctionReference gstErrorClass;        // set from TypeScript: lib/errors.ts GstError
  std::set<NativePipeline*> pipelines;          // open pipelines, closed by the env cleanup hook

  static AddonData* Of(Napi::Env env) { return env.GetInstanceData<AddonData>(); }
};
