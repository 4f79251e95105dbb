/* A minimal RTSP server for the tests, on Debian's gst-rtsp-server library.
 *
 *   rtsp-server <port> <mount> <launch description>
 *
 * Serves the launch description (its payloader named pay0) at
 * rtsp://127.0.0.1:<port><mount>, shared between clients, bound to 127.0.0.1
 * only. Port 0 picks a free port. Prints "ready <port>" once it accepts
 * connections; SIGTERM or SIGINT stops it. Built and started by
 * test/support/rtsp-server.ts.
 */
#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <stdio.h>
#include <stdlib.h>

static gboolean quit(gpointer loop) {
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

int main(int argc, char *argv[]) {
  gst_init(&argc, &argv);
  if (argc != 4) {
    fprintf(stderr, "usage: %s <port> <mount> <launch description>\n", argv[0]);
    return 2;
  }
  GMainLoop *loop = g_main_loop_new(NULL, FALSE);
  GstRTSPServer *server = gst_rtsp_server_new();
  gst_rtsp_server_set_address(server, "127.0.0.1");
  gst_rtsp_server_set_service(server, argv[1]);

  GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(factory, argv[3]);
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  GstRTSPMountPoints *mounts = gst_rtsp_server_get_mount_points(server);
  gst_rtsp_mount_points_add_factory(mounts, argv[2], factory);
  g_object_unref(mounts);

  if (gst_rtsp_server_attach(server, NULL) == 0) {
    fprintf(stderr, "rtsp-server: cannot listen on 127.0.0.1:%s\n", argv[1]);
    return 1;
  }
  printf("ready %d\n", gst_rtsp_server_get_bound_port(server));
  fflush(stdout);

  g_unix_signal_add(SIGTERM, quit, loop);
  g_unix_signal_add(SIGINT, quit, loop);
  g_main_loop_run(loop);

  g_object_unref(server);
  g_main_loop_unref(loop);
  return 0;
}
