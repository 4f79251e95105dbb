// Carries events from GStreamer threads to the JS thread.
//
// GStreamer threads call Post(), which copies nothing but a pointer into a
// thread-safe function's queue and never blocks. The JS thread later calls the
// pipeline's JS callback as callback(target, type, data). A Dispatcher is
// reference counted because GStreamer may hold it (signal handlers, promises,
// the bus) after JS has closed the pipeline: Post() after Close() drops the event.
#pragma once

#include <gst/gst.h>
#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

struct Event {
  uint32_t target;       // 0 is the pipeline; webrtcbins and data channels get their own ids
  std::string type;
  GstStructure* data;    // owned; converted to a JS object on the JS thread (may be null)
  ~Event() {
    if (data != nullptr) gst_structure_free(data);
  }
};

class Dispatcher {
 public:
  // JS thread. `callback` is called as callback(target: number, type: string, data: object | null).
  static Dispatcher* Create(Napi::Env env, Napi::Function callback);

  // Any thread. Takes ownership of `data`. Never blocks.
  void Post(uint32_t target, const char* type, GstStructure* data);

  // JS thread. Whether pending events keep the Node.js event loop alive.
  void SetKeepAlive(Napi::Env env, bool keepAlive);

  // JS thread. Idempotent: further events are dropped; queued ones are still delivered.
  void Close();

  uint32_t NewTargetId() { return nextTargetId_.fetch_add(1); }

  Dispatcher* Ref();
  void Unref();
  // For C callbacks' GDestroyNotify.
  static void UnrefNotify(gpointer dispatcher) { static_cast<Dispatcher*>(dispatcher)->Unref(); }
  // A reference that a queued task can carry (copyable).
  std::shared_ptr<Dispatcher> Share() { return std::shared_ptr<Dispatcher>(Ref(), [](Dispatcher* self) { self->Unref(); }); }

 private:
  static void CallJs(Napi::Env env, Napi::Function callback, Dispatcher* self, Event* event);
  // JS thread, when Node.js finalizes the thread-safe function (after Close(), or
  // when the environment goes away first): from then on Post() drops events.
  static void Finalize(Napi::Env env, void* data, Dispatcher* self);
  using Tsfn = Napi::TypedThreadSafeFunction<Dispatcher, Event, CallJs>;

  Dispatcher() = default;
  ~Dispatcher() = default;

  Tsfn tsfn_;
  std::mutex mutex_;  // guards closed_ and finalized_ (written on the JS thread only) against a concurrent Post()
  bool closed_ = false;
  bool finalized_ = false;
  bool keepAlive_ = false;  // JS thread only
  std::atomic<int> refs_{1};
  std::atomic<uint32_t> nextTargetId_{1};
};

// A (dispatcher, target) pair for signal handlers and GstPromise callbacks.
struct DispatchTarget {
  Dispatcher* dispatcher;  // one reference held
  uint32_t target;

  static DispatchTarget* New(Dispatcher* dispatcher, uint32_t target) {
    return new DispatchTarget{dispatcher->Ref(), target};
  }
  static void Free(gpointer data, GClosure* = nullptr) {
    auto* self = static_cast<DispatchTarget*>(data);
    self->dispatcher->Unref();
    delete self;
  }
  static void FreeNotify(gpointer data) { Free(data); }
  void Post(const char* type, GstStructure* data) const { dispatcher->Post(target, type, data); }
};
