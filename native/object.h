// NativeObject: a JS handle on any GObject (element, pad, transceiver, data
// channel). It holds one reference, released when the handle is collected, and
// reads and writes GObject properties as plain JS values.
#pragma once

#include <gst/gst.h>
#include <napi.h>

class NativeObject : public Napi::ObjectWrap<NativeObject> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  // Takes a new reference on `object`.
  static Napi::Object New(Napi::Env env, GObject* object);
  // The wrapped object of a NativeObject handle (borrowed), or null for anything else.
  static GObject* From(const Napi::Value& value);

  explicit NativeObject(const Napi::CallbackInfo& info);
  ~NativeObject() override;

  GObject* object() const { return object_; }

 private:
  Napi::Value Get(const Napi::CallbackInfo& info);
  void Set(const Napi::CallbackInfo& info);
  Napi::Value PropertyNames(const Napi::CallbackInfo& info);
  Napi::Value TypeName(const Napi::CallbackInfo& info);
  Napi::Value Name(const Napi::CallbackInfo& info);
  Napi::Value FactoryName(const Napi::CallbackInfo& info);
  Napi::Value Is(const Napi::CallbackInfo& info);
  GParamSpec* FindProperty(Napi::Env env, const Napi::Value& name, std::string* nameOut);

  GObject* object_ = nullptr;
};
