#include "dispatcher.h"

#include "value.h"

Dispatcher* Dispatcher::Create(Napi::Env env, Napi::Function callback) {
  auto* self = new Dispatcher();
  // Unlimited queue: a GStreamer thread must never wait for JS.
  // The thread-safe function holds a reference until Node.js finalizes it.
  self->tsfn_ = Tsfn::New(env, callback, "gst-webrtc-node events", 0, 1, self, Finalize, static_cast<void*>(nullptr));
  self->Ref();
  self->tsfn_.Unref(env);  // only a playing pipeline (or a pending operation) keeps Node alive
  return self;
}

void Dispatcher::Post(uint32_t target, const char* type, GstStructure* data) {
  auto* event = new Event{target, type, data};
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_ || finalized_ || tsfn_.NonBlockingCall(event) != napi_ok) delete event;
}

void Dispatcher::Finalize(Napi::Env, void*, Dispatcher* self) {
  {
    std::lock_guard<std::mutex> lock(self->mutex_);
    self->finalized_ = true;
    self->closed_ = true;
  }
  self->Unref();
}

void Dispatcher::SetKeepAlive(Napi::Env env, bool keepAlive) {
  // No lock: closed_ and finalized_ are written on this (the JS) thread only, and
  // referencing the thread-safe function does not race with Post(). The mutex is
  // held by GStreamer threads posting events, which a busy machine preempts.
  if (closed_ || finalized_ || keepAlive == keepAlive_) return;
  keepAlive_ = keepAlive;
  if (keepAlive) tsfn_.Ref(env);
  else tsfn_.Unref(env);
}

void Dispatcher::Close() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return;
  closed_ = true;
  if (!finalized_) tsfn_.Release();
}

Dispatcher* Dispatcher::Ref() {
  refs_.fetch_add(1);
  return this;
}

void Dispatcher::Unref() {
  if (refs_.fetch_sub(1) == 1) delete this;
}

void Dispatcher::CallJs(Napi::Env env, Napi::Function callback, Dispatcher*, Event* event) {
  // env is null while the environment is being torn down: drop the event.
  if (env != nullptr && callback != nullptr) {
    try {
      Napi::HandleScope scope(env);
      Napi::Value data = event->data != nullptr ? StructureToJs(env, event->data) : env.Null();
      callback.Call({Napi::Number::New(env, event->target), Napi::String::New(env, event->type), data});
    } catch (const Napi::Error& error) {
      // The TypeScript dispatcher catches listener errors itself; reaching this is a bug
      // in the library, so make it an uncaught exception rather than lose it. While the
      // environment is torn down JS cannot run and even throwing fails: then there is
      // nobody left to tell.
      try {
        error.ThrowAsJavaScriptException();
      } catch (const Napi::Error&) {
      }
    }
  }
  delete event;
}
