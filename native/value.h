// The one place where GLib/GStreamer values become JS values and back.
#pragma once

#include <gst/gst.h>
#include <napi.h>

// GValue -> JS. Booleans, numbers, strings, enums (nick), flags (nicks joined by '+'),
// caps (string), structures (plain object), arrays and lists, GError (GstError),
// session descriptions ({ type, sdp }), GObjects (NativeObject), anything else
// serialized by GStreamer, or null.
Napi::Value GValueToJs(Napi::Env env, const GValue* value);

// GstStructure -> { field: value, ... } (field names as GStreamer spells them).
Napi::Value StructureToJs(Napi::Env env, const GstStructure* structure);

// JS -> GValue of the given (already initialised) type. Throws a JS TypeError
// describing `what` when the value cannot be converted.
void JsToGValue(const Napi::Value& js, GValue* out, const char* what);
