/* The reference for the binding-overhead benchmark: the same in-process loopback
 * as bench/loopback.cjs (VP8 640x480@30 plus Opus, one sending pipeline with a
 * webrtcbin, one receiving webrtcbin in a pipeline of its own), written against
 * GStreamer's C API directly, with a GLib main loop. Like the binding, it turns
 * off libnice's UPnP (which would otherwise add threads and SSDP traffic).
 *
 *   loopback SECONDS
 *
 * Prints one JSON line: {"firstFrameMs", "connectedMs", "videoFrames",
 * "audioBuffers", "cpuSeconds", "peakRssKiB"}. Times are from the start of the
 * program's GStreamer work (after gst_init).
 */
#define GST_USE_UNSTABLE_API
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define SENDER                                                                                      \
  "videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=30/1 "      \
  "! vp8enc deadline=1 ! rtpvp8pay pt=96 ! webrtcbin name=tx bundle-policy=max-bundle "            \
  "audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! opusenc ! rtpopuspay pt=111 ! tx."

static GMainLoop *loop;
static GstElement *tx_pipeline, *rx_pipeline, *tx, *rx;
static gint64 start_us, first_frame_us, connected_us;

static gint64 since_start_ms(gint64 t) { return t ? (t - start_us) / 1000 : -1; }

static guint64 rendered(const char *name) {
  GstElement *sink = gst_bin_get_by_name(GST_BIN(rx_pipeline), name);
  GstStructure *stats = NULL;
  guint64 count = 0;
  if (!sink) return 0;
  g_object_get(sink, "stats", &stats, NULL);
  if (stats) gst_structure_get_uint64(stats, "rendered", &count), gst_structure_free(stats);
  gst_object_unref(sink);
  return count;
}

static GstPadProbeReturn on_first_frame(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
  (void)pad, (void)info, (void)data;
  if (!first_frame_us) first_frame_us = g_get_monotonic_time();
  return GST_PAD_PROBE_REMOVE;
}

/* Incoming stream: decode it. Runs on a streaming thread, as GStreamer's own examples do. */
static void on_pad_added(GstElement *webrtc, GstPad *pad, gpointer data) {
  (void)webrtc, (void)data;
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
  GstCaps *caps = gst_pad_get_current_caps(pad);
  if (!caps) caps = gst_pad_query_caps(pad, NULL);
  const gchar *media = gst_structure_get_string(gst_caps_get_structure(caps, 0), "media");
  gboolean video = g_strcmp0(media, "video") == 0;
  gst_caps_unref(caps);
  GstElement *branch = gst_parse_bin_from_description(
      video ? "rtpvp8depay ! vp8dec name=dec ! fakesink name=video" : "rtpopusdepay ! opusdec ! fakesink name=audio", TRUE, NULL);
  gst_bin_add(GST_BIN(rx_pipeline), branch);
  gst_element_sync_state_with_parent(branch);
  GstPad *sink = gst_element_get_static_pad(branch, "sink");
  gst_pad_link(pad, sink);
  gst_object_unref(sink);
  if (video) {
    GstElement *dec = gst_bin_get_by_name(GST_BIN(branch), "dec");
    GstPad *src = gst_element_get_static_pad(dec, "src");
    gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, on_first_frame, NULL, NULL);
    gst_object_unref(src);
    gst_object_unref(dec);
  }
}

static void on_ice_candidate(GstElement *webrtc, guint mline, gchar *candidate, gpointer other) {
  (void)webrtc;
  g_signal_emit_by_name(other, "add-ice-candidate", mline, candidate);
}

static void on_connection_state(GObject *webrtc, GParamSpec *spec, gpointer data) {
  (void)spec, (void)data;
  GstWebRTCPeerConnectionState state;
  g_object_get(webrtc, "connection-state", &state, NULL);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED && !connected_us) connected_us = g_get_monotonic_time();
}

/* Offer/answer through GstPromise callbacks, as GStreamer's own examples do:
 * waiting on a promise inside a webrtcbin signal handler would block its thread. */
static GstWebRTCSessionDescription *take_reply(GstPromise *promise, const char *field) {
  GstWebRTCSessionDescription *description = NULL;
  gst_structure_get(gst_promise_get_reply(promise), field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &description, NULL);
  gst_promise_unref(promise);
  return description;
}

static void on_answer(GstPromise *promise, gpointer data) {
  (void)data;
  GstWebRTCSessionDescription *answer = take_reply(promise, "answer");
  g_signal_emit_by_name(rx, "set-local-description", answer, NULL);
  g_signal_emit_by_name(tx, "set-remote-description", answer, NULL);
  gst_webrtc_session_description_free(answer);
}

static void on_offer_applied(GstPromise *promise, gpointer data) {
  (void)data;
  gst_promise_unref(promise);
  g_signal_emit_by_name(rx, "create-answer", NULL, gst_promise_new_with_change_func(on_answer, NULL, NULL));
}

static void on_offer(GstPromise *promise, gpointer data) {
  (void)data;
  GstWebRTCSessionDescription *offer = take_reply(promise, "offer");
  g_signal_emit_by_name(tx, "set-local-description", offer, NULL);
  g_signal_emit_by_name(rx, "set-remote-description", offer, gst_promise_new_with_change_func(on_offer_applied, NULL, NULL));
  gst_webrtc_session_description_free(offer);
}

static void on_negotiation_needed(GstElement *webrtc, gpointer data) {
  (void)data;
  g_signal_emit_by_name(webrtc, "create-offer", NULL, gst_promise_new_with_change_func(on_offer, NULL, NULL));
}

/* What the binding does for every webrtcbin (lib/webrtcbin.ts disableUpnp). */
static void disable_upnp(GstElement *webrtc) {
  GObject *ice = NULL, *agent = NULL;
  g_object_get(webrtc, "ice-agent", &ice, NULL);
  if (ice && g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent")) g_object_get(ice, "agent", &agent, NULL);
  if (agent && g_object_class_find_property(G_OBJECT_GET_CLASS(agent), "upnp")) g_object_set(agent, "upnp", FALSE, NULL);
  if (agent) g_object_unref(agent);
  if (ice) g_object_unref(ice);
}

static gboolean on_timeout(gpointer data) {
  (void)data;
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

int main(int argc, char **argv) {
  int seconds = argc > 1 ? atoi(argv[1]) : 20;
  gst_init(&argc, &argv);
  start_us = g_get_monotonic_time();
  loop = g_main_loop_new(NULL, FALSE);

  tx_pipeline = gst_parse_launch(SENDER, NULL);
  rx_pipeline = gst_pipeline_new(NULL);
  rx = gst_element_factory_make("webrtcbin", "rx");
  g_object_set(rx, "latency", 50, NULL);
  gst_util_set_object_arg(G_OBJECT(rx), "bundle-policy", "max-bundle");
  gst_bin_add(GST_BIN(rx_pipeline), gst_object_ref(rx));
  tx = gst_bin_get_by_name(GST_BIN(tx_pipeline), "tx");
  disable_upnp(tx);
  disable_upnp(rx);
  g_signal_connect(tx, "on-negotiation-needed", G_CALLBACK(on_negotiation_needed), NULL);
  g_signal_connect(tx, "on-ice-candidate", G_CALLBACK(on_ice_candidate), rx);
  g_signal_connect(rx, "on-ice-candidate", G_CALLBACK(on_ice_candidate), tx);
  g_signal_connect(rx, "pad-added", G_CALLBACK(on_pad_added), NULL);
  g_signal_connect(rx, "notify::connection-state", G_CALLBACK(on_connection_state), NULL);

  gst_element_set_state(rx_pipeline, GST_STATE_PLAYING);
  gst_element_set_state(tx_pipeline, GST_STATE_PLAYING);
  g_timeout_add_seconds(seconds, on_timeout, NULL);
  g_main_loop_run(loop);

  guint64 video = rendered("video"), audio = rendered("audio");
  gst_element_set_state(tx_pipeline, GST_STATE_NULL);
  gst_element_set_state(rx_pipeline, GST_STATE_NULL);

  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double cpu = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  printf("{\"firstFrameMs\":%" G_GINT64_FORMAT ",\"connectedMs\":%" G_GINT64_FORMAT ",\"videoFrames\":%" G_GUINT64_FORMAT
         ",\"audioBuffers\":%" G_GUINT64_FORMAT ",\"cpuSeconds\":%.3f,\"peakRssKiB\":%ld}\n",
         since_start_ms(first_frame_us), since_start_ms(connected_us), video, audio, cpu, usage.ru_maxrss);

  gst_object_unref(tx);
  gst_object_unref(rx);
  gst_object_unref(tx_pipeline);
  gst_object_unref(rx_pipeline);
  g_main_loop_unref(loop);
  return 0;
}
