// Data channels: webrtcbin's GstWebRTCDataChannel signals become events under a
// target id of their own; sending and closing are plain functions on the handle.
// Two more look into webrtcbin's SCTP encoder, for what GStreamer 1.22 gets wrong
// when a channel or the whole webrtcbin closes with data still queued.
#pragma once

#include <gst/gst.h>
#include <napi.h>

#include "dispatcher.h"

// Any thread. Connects the channel's signals to `dispatcher`; returns the channel's target id.
// The webrtcbin keeps the channel alive until it is finalized itself (see data_channel.cc).
uint32_t WatchDataChannel(GstElement* webrtcbin, GObject* channel, Dispatcher* dispatcher);

// exports.dataChannelSend(channel, string | Buffer), exports.dataChannelClose(channel),
// exports.dataChannelBytesSent(webrtcbin, streamId), exports.dataChannelUnblock(webrtcbin),
// exports.dataChannelLimitReceive(webrtcbin, channel, boundBytes), exports.dataChannelDelivered(channel, bytes)
// (flow control of received messages: see ReceiveGate in data_channel.cc)
void InitDataChannel(Napi::Env env, Napi::Object exports);
