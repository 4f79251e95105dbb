// The DTLS certificate a webrtcbin's transports present: see dtls_certificate.cc.
#pragma once

#include <napi.h>

// exports.dtlsCertificate(webrtcbin, pem)
void InitDtlsCertificate(Napi::Env env, Napi::Object exports);
