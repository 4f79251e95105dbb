// warmUp() -> Promise<void>: loads the plugins a WebRTC connection needs and
// makes the process's DTLS certificate (one RSA key, about 100 ms), on a
// libuv worker thread. Otherwise both happen during the first negotiation, on
// webrtcbin's thread, and the first connection takes several times longer.
#include <gst/gst.h>
#include <napi.h>

#include "warm_up.h"

namespace {

// Elements webrtcbin creates while it negotiates and connects.
const char* const kFactories[] = {"webrtcbin", "rtpbin", "nicesrc", "nicesink", "dtlssrtpenc", "dtlssrtpdec",
                                  "srtpenc",   "srtpdec", "sctpenc", "sctpdec",  "rtpfunnel",   "clocksync"};

class WarmUp : public Napi::AsyncWorker {
 public:
  explicit WarmUp(Napi::Env env) : Napi::AsyncWorker(env, "gst-webrtc-node warm-up"), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    for (const char* name : kFactories) {
      GstElement* element = gst_element_factory_make(name, nullptr);
      // dtlssrtpdec makes the default certificate when it is created.
      if (element != nullptr) gst_object_unref(gst_object_ref_sink(element));
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
};

Napi::Value WarmUpCall(const Napi::CallbackInfo& info) {
  auto* worker = new WarmUp(info.Env());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitWarmUp(Napi::Env env, Napi::Object exports) { exports.Set("warmUp", Napi::Function::New<WarmUpCall>(env, "warmUp")); }
