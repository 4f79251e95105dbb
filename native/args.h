// Argument checks shared by the native classes: each returns the value or throws
// a JS TypeError naming what was expected.
#pragma once

#include <napi.h>

#include <string>

#include "object.h"

// Attributes of the classes' methods and accessors: writable and configurable,
// so that the benchmarks can wrap them to time each call (lib/core/native.ts,
// enableNativeCallStats). napi_default would make them read-only.
constexpr napi_property_attributes kMethod = static_cast<napi_property_attributes>(napi_writable | napi_configurable);
constexpr napi_property_attributes kAccessor = napi_configurable;

inline std::string StringArg(const Napi::Value& value, const char* what) {
  if (!value.IsString()) throw Napi::TypeError::New(value.Env(), std::string(what) + ": expected a string");
  return value.As<Napi::String>().Utf8Value();
}

// A strong reference to the element behind a NativeObject handle.
inline ObjectRef ElementArg(const Napi::Value& value, const char* what) {
  ObjectRef object = NativeObject::From(value);
  if (object == nullptr || !GST_IS_ELEMENT(object.get())) throw Napi::TypeError::New(value.Env(), std::string(what) + ": expected an element");
  return object;
}

// A strong reference to the pad behind a NativeObject handle.
inline ObjectRef PadArg(const Napi::Value& value, const char* what) {
  ObjectRef object = NativeObject::From(value);
  if (object == nullptr || !GST_IS_PAD(object.get())) throw Napi::TypeError::New(value.Env(), std::string(what) + ": expected a pad");
  return object;
}
