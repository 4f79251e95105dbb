// What is set up on a webrtcbin's SCTP transport as webrtcbin makes it
// (association id, send window): see sctp_transport.cc.
#pragma once

#include <napi.h>

// exports.prepareSctpTransport(webrtcbin, sendWindowBytes)
void InitSctpTransport(Napi::Env env, Napi::Object exports);
