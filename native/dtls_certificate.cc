// dtlsCertificate(webrtcbin, pem): every DTLS transport the webrtcbin makes from
// now on presents the certificate and key in `pem` (lib/core/dtls-certificate.ts
// makes an ECDSA one) instead of GStreamer's process-wide RSA-2048 certificate.
//
// webrtcbin 1.22 has no setting for it. Its transports' dtlssrtpdec elements
// appear in the bin (deep-element-added, on webrtcbin's thread) right after the
// transport is made and before webrtcbin reads the certificate for the SDP
// fingerprint; setting `pem` there is what GstWebRTCDTLSTransport's own
// `certificate` property does. dtlssrtpdec keeps one DTLS context per distinct
// PEM string, shared by every element given the same one, and frees it when
// the last of them goes: one element of our own holds each PEM's context for
// the process's lifetime, so connections made one after another do not make it
// anew, nor look it up while the previous connection's teardown frees it.
#include <gst/gst.h>
#include <napi.h>

#include <cstring>
#include <mutex>
#include <set>
#include <string>

#include "dtls_certificate.h"
#include "object.h"

namespace {

// Keeps the DTLS context of `pem` alive (see above); once per distinct PEM.
// Making the first context can take tens of milliseconds (the first DTLS
// element of the process makes GStreamer's RSA key when warmUp() has not), so
// it is done here on webrtcbin's thread, never on the JS thread.
void HoldContext(const std::string& pem) {
  static std::mutex mutex;
  static std::set<std::string> held;
  std::lock_guard<std::mutex> lock(mutex);
  if (held.count(pem) > 0) return;
  GstElement* holder = gst_element_factory_make("dtlsdec", nullptr);
  if (holder == nullptr) return;
  gst_object_ref_sink(holder);
  g_object_set(holder, "pem", pem.c_str(), nullptr);
  held.insert(pem);  // `holder` is never released
}

void OnDeepElementAdded(GstBin*, GstBin*, GstElement* element, gpointer pem) {
  GstElementFactory* factory = gst_element_get_factory(element);
  if (factory == nullptr || std::strcmp(GST_OBJECT_NAME(factory), "dtlssrtpdec") != 0) return;
  HoldContext(static_cast<const char*>(pem));
  g_object_set(element, "pem", static_cast<const char*>(pem), nullptr);
}

void FreePem(gpointer pem, GClosure*) { g_free(pem); }

// JS thread: connects the handler once per webrtcbin (later calls change nothing); takes no webrtcbin lock
// and makes nothing.
void DtlsCertificate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ObjectRef webrtcbin = NativeObject::From(info[0]);
  if (webrtcbin == nullptr || !GST_IS_BIN(webrtcbin.get())) throw Napi::TypeError::New(env, "expected a webrtcbin");
  if (!info[1].IsString()) throw Napi::TypeError::New(env, "pem must be a string");
  static GQuark given = g_quark_from_static_string("gst-webrtc-node-dtls-certificate");
  if (g_object_get_qdata(webrtcbin.get(), given) != nullptr) return;
  g_object_set_qdata(webrtcbin.get(), given, GINT_TO_POINTER(1));
  gchar* pem = g_strdup(info[1].As<Napi::String>().Utf8Value().c_str());
  g_signal_connect_data(webrtcbin.get(), "deep-element-added", G_CALLBACK(OnDeepElementAdded), pem, FreePem, static_cast<GConnectFlags>(0));
}

}  // namespace

void InitDtlsCertificate(Napi::Env env, Napi::Object exports) {
  exports.Set("dtlsCertificate", Napi::Function::New<DtlsCertificate>(env, "dtlsCertificate"));
}
