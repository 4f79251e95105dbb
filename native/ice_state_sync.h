// Keeps an ICE transport's state in step with its libnice component: see
// ice_state_sync.cc.
#pragma once

#include <glib-object.h>

// Watches `iceTransport` (a GstWebRTCNiceTransport; other kinds are ignored)
// from now on, once per transport, and corrects its state at once if it is
// already stale. Any thread that holds no webrtcbin or libnice lock.
void SyncIceTransportState(GObject* iceTransport);
