// An ICE transport's state, kept in step with its libnice component.
//
// Why: libnice emits component-state-changed from whichever thread unlocks its
// agent. When webrtcbin's thread sets the remote candidates, the `connecting`
// signal it emits can reach GstWebRTCNiceTransport after libnice's own thread
// has already emitted `connected` and `ready` for checks that succeeded in the
// meantime (seen on loopback with many peers joining at once, or with short
// check intervals). The transport then stays `checking` for good although the
// component is ready, and webrtcbin starts DTLS and lets media in only on
// `connected` or `completed` (transportsendbin.c, transportreceivebin.c): the
// peer never connects. Seen with GStreamer 1.22.0 and libnice 0.1.21; the
// transport's handler is unchanged in GStreamer's main branch (2026).
//
// The fix: after every state change of the transport (GObject notify handlers
// run in connection order, so after the transport's own), compare the state
// with what the agent says now and, where the agent says connected or ready,
// set that. The last write is always followed, on its own thread, by such a
// check, so the transport ends on the agent's state. The check never reports a
// failure or a disconnection itself: the agent answers `failed` for a stream it
// no longer has, too.
#include "ice_state_sync.h"

#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>

#include <mutex>

namespace {

// What GstWebRTCNiceTransport reports for a connected or ready component (its
// nicetransport.c mapping); false for every other state.
bool ConnectedState(NiceComponentState state, GstWebRTCICEConnectionState* reported) {
  switch (state) {
    case NICE_COMPONENT_STATE_CONNECTED:
      *reported = GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED;
      return true;
    case NICE_COMPONENT_STATE_READY:
      *reported = GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED;
      return true;
    default:
      return false;
  }
}

// The component's state as the agent has it now, read through the transport's
// stream and the stream's GstWebRTCNice; false when any of them is gone.
bool AgentState(GObject* transport, NiceComponentState* state) {
  GObject* stream = nullptr;
  g_object_get(transport, "stream", &stream, nullptr);
  if (stream == nullptr) return false;
  GObject* ice = nullptr;
  guint streamId = 0;
  g_object_get(stream, "ice", &ice, "stream-id", &streamId, nullptr);
  g_object_unref(stream);
  if (ice == nullptr) return false;
  NiceAgent* agent = nullptr;
  g_object_get(ice, "agent", &agent, nullptr);
  g_object_unref(ice);
  if (agent == nullptr) return false;
  GstWebRTCICEComponent component = GST_WEBRTC_ICE_COMPONENT_RTP;
  g_object_get(transport, "component", &component, nullptr);
  *state = nice_agent_get_component_state(agent, streamId, component == GST_WEBRTC_ICE_COMPONENT_RTP ? NICE_COMPONENT_TYPE_RTP : NICE_COMPONENT_TYPE_RTCP);
  g_object_unref(agent);
  return true;
}

void Correct(GObject* transport) {
  NiceComponentState agentState;
  GstWebRTCICEConnectionState wanted;
  if (!AgentState(transport, &agentState) || !ConnectedState(agentState, &wanted)) return;
  GstWebRTCICEConnectionState current = GST_WEBRTC_ICE_CONNECTION_STATE_NEW;
  g_object_get(transport, "state", &current, nullptr);
  // Notifies "state" again: webrtcbin and its transport bins see it, and this handler finds nothing to do.
  if (current != wanted) gst_webrtc_ice_transport_connection_state_change(GST_WEBRTC_ICE_TRANSPORT(transport), wanted);
}

void OnStateNotify(GObject* transport, GParamSpec*, gpointer) { Correct(transport); }

}  // namespace

void SyncIceTransportState(GObject* iceTransport) {
  if (!GST_IS_WEBRTC_ICE_TRANSPORT(iceTransport) || g_object_class_find_property(G_OBJECT_GET_CLASS(iceTransport), "stream") == nullptr) return;
  static std::mutex attaching;
  static const GQuark watched = g_quark_from_static_string("gst-webrtc-node-ice-state-sync");
  {
    std::lock_guard<std::mutex> lock(attaching);
    if (g_object_get_qdata(iceTransport, watched) != nullptr) return;
    g_object_set_qdata(iceTransport, watched, GINT_TO_POINTER(1));
  }
  g_signal_connect(iceTransport, "notify::state", G_CALLBACK(OnStateNotify), nullptr);
  Correct(iceTransport);  // a change before the handler was there
}
