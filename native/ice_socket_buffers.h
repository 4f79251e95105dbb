// Kernel buffers of the UDP sockets behind a webrtcbin's ICE transports: see
// ice_socket_buffers.cc.
#pragma once

#include <napi.h>

// exports.iceSocketBuffers(webrtcbin, bytes)
void InitIceSocketBuffers(Napi::Env env, Napi::Object exports);
