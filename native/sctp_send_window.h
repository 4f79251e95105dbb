// CapSctpSendWindow: caps the receive window this side's SCTP association sees
// from its peer, so that GStreamer's sctpenc never has its whole send buffer in
// flight (see sctp_send_window.cc for why).
#pragma once

#include <gst/gst.h>

#include <cstdint>

// Any thread; once per sctpdec, before its association starts.
void CapSctpSendWindow(GstElement* sctpdec, uint32_t capBytes);
