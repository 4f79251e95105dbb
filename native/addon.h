// Per-environment state of the addon (one per Node.js main thread or worker).
#pragma once

#include <napi.h>

#include <memory>
#include <set>

#include "control_thread.h"

class NativePipeline;

struct AddonData {
  Napi::FunctionReference objectConstructor;    // NativeObject
  Napi::FunctionReference pipelineConstructor;  // NativePipeline
  Napi::FunctionReference webRtcBinConstructor; // NativeWebRtcBin
  Napi::FunctionReference gstErrorClass;        // set from TypeScript: lib/errors.ts GstError
  std::set<NativePipeline*> pipelines;          // open pipelines, closed by the env cleanup hook
  // Every control thread of this environment, also those still tearing down a
  // pipeline JS has closed: the cleanup hook waits for them, up to a bound.
  std::shared_ptr<ThreadRegistry> threads = std::make_shared<ThreadRegistry>();

  static AddonData* Of(Napi::Env env) { return env.GetInstanceData<AddonData>(); }
};
