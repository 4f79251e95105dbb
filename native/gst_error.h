// The one place where GStreamer errors become JS errors: instances of the
// TypeScript GstError class (registered at load time), carrying domain and code.
#pragma once

#include <gst/gst.h>
#include <napi.h>

#include <string>

#include "error_codes.h"

Napi::Error MakeGstError(Napi::Env env, const GError* error);
Napi::Error MakeGstError(Napi::Env env, const std::string& message, const char* domain = GST_WEBRTC_NODE_ERROR_DOMAIN, int code = 0);
// An error of our own domain (native/error_codes.h).
Napi::Error MakeGstError(Napi::Env env, const std::string& message, ErrorCode code);

// Any thread: a GError of our own domain, e.g. for an event posted from the control thread.
GError* NewGError(ErrorCode code, const std::string& message);

// Throws a JS TypeError unless `condition`.
void RequireType(Napi::Env env, bool condition, const char* message);
