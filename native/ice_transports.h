// What is set up on each ICE transport of a webrtcbin as it appears (socket
// buffers, state sync): see ice_transports.cc.
#pragma once

#include <napi.h>

// exports.prepareIceTransports(webrtcbin, bytes)
void InitIceTransports(Napi::Env env, Napi::Object exports);
