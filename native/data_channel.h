// Data channels: webrtcbin's GstWebRTCDataChannel signals become events under a
// target id of their own; sending and closing are plain functions on the handle.
#pragma once

#include <gst/gst.h>
#include <napi.h>

#include "dispatcher.h"

// Any thread. Connects the channel's signals to `dispatcher`; returns the channel's target id.
uint32_t WatchDataChannel(GObject* channel, Dispatcher* dispatcher);

// exports.dataChannelSend(channel, string | Buffer), exports.dataChannelClose(channel)
void InitDataChannel(Napi::Env env, Napi::Object exports);
