// The one place where GStreamer errors become JS errors: instances of the
// TypeScript GstError class (registered at load time), carrying domain and code.
#pragma once

#include <gst/gst.h>
#include <napi.h>

Napi::Error MakeGstError(Napi::Env env, const GError* error);
Napi::Error MakeGstError(Napi::Env env, const std::string& message, const char* domain = "gst-webrtc-node", int code = 0);

// Throws a JS TypeError unless `condition`.
void RequireType(Napi::Env env, bool condition, const char* message);
