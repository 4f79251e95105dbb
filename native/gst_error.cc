#include "gst_error.h"

#include "addon.h"

Napi::Error MakeGstError(Napi::Env env, const std::string& message, const char* domain, int code) {
  AddonData* addon = AddonData::Of(env);
  Napi::Object details = Napi::Object::New(env);
  details.Set("domain", domain);
  details.Set("code", Napi::Number::New(env, code));
  if (addon != nullptr && !addon->gstErrorClass.IsEmpty()) {
    Napi::Object error = addon->gstErrorClass.New({Napi::String::New(env, message), details});
    return Napi::Error(env, error);
  }
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("name", "GstError");
  error.Set("domain", domain);
  error.Set("code", Napi::Number::New(env, code));
  return error;
}

Napi::Error MakeGstError(Napi::Env env, const GError* error) {
  if (error == nullptr) return MakeGstError(env, "unknown GStreamer error");
  return MakeGstError(env, error->message != nullptr ? error->message : "GStreamer error", g_quark_to_string(error->domain),
                      error->code);
}

void RequireType(Napi::Env env, bool condition, const char* message) {
  if (!condition) throw Napi::TypeError::New(env, message);
}

Napi::Error MakeGstError(Napi::Env env, const std::string& message, ErrorCode code) {
  return MakeGstError(env, message, GST_WEBRTC_NODE_ERROR_DOMAIN, static_cast<int>(code));
}

GError* NewGError(ErrorCode code, const std::string& message) {
  return g_error_new_literal(g_quark_from_static_string(GST_WEBRTC_NODE_ERROR_DOMAIN), static_cast<int>(code), message.c_str());
}
