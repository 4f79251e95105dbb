/* A minimal RTSP server for the tests, on Debian's gst-rtsp-server library.
 *
 *   rtsp-server <port> <mount> <launch description> [<user>:<password>]
 *
 * Serves the launch description (its payloader named pay0) at
 * rtsp://127.0.0.1:<port><mount>, shared between clients, bound to 127.0.0.1
 * only; with credentials, only to a client that gives them (Basic
 * authentication). Port 0 picks a free port. Prints "ready <port>" once it
 * accepts connections and "setup <Transport header>" for each SETUP a client
 * sends; SIGTERM or SIGINT stops it. Built and started by
 * test/support/rtsp-server.ts.
 */
#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_setup_request(GstRTSPClient *client, GstRTSPContext *context, gpointer data) {
  (void)client;
  (void)data;
  gchar *transport = NULL;
  if (gst_rtsp_message_get_header(context->request, GST_RTSP_HDR_TRANSPORT, &transport, 0) == GST_RTSP_OK) {
    printf("setup %s\n", transport);
    fflush(stdout);
  }
}

static void on_client_connected(GstRTSPServer *server, GstRTSPClient *client, gpointer data) {
  (void)server;
  (void)data;
  g_signal_connect(client, "setup-request", G_CALLBACK(on_setup_request), NULL);
}

/* Basic authentication for one user, who may do everything. */
static void require_credentials(GstRTSPServer *server, GstRTSPMediaFactory *factory, const char *credentials) {
  const char *colon = strchr(credentials, ':');
  if (colon == NULL) {
    fprintf(stderr, "rtsp-server: credentials must be <user>:<password>\n");
    exit(2);
  }
  gchar *user = g_strndup(credentials, colon - credentials);
  GstRTSPAuth *auth = gst_rtsp_auth_new();
  GstRTSPToken *token = gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, "user", NULL);
  gchar *basic = gst_rtsp_auth_make_basic(user, colon + 1);
  gst_rtsp_auth_add_basic(auth, basic, token);
  g_free(basic);
  gst_rtsp_token_unref(token);
  gst_rtsp_server_set_auth(server, auth);
  g_object_unref(auth);
  gst_rtsp_media_factory_add_role(factory, "user", GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN, TRUE,
                                  GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, NULL);
  g_free(user);
}

static gboolean quit(gpointer loop) {
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

int main(int argc, char *argv[]) {
  gst_init(&argc, &argv);
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: %s <port> <mount> <launch description> [<user>:<password>]\n", argv[0]);
    return 2;
  }
  GMainLoop *loop = g_main_loop_new(NULL, FALSE);
  GstRTSPServer *server = gst_rtsp_server_new();
  gst_rtsp_server_set_address(server, "127.0.0.1");
  gst_rtsp_server_set_service(server, argv[1]);

  GstRTSPMediaFactory *factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(factory, argv[3]);
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  if (argc == 5) require_credentials(server, factory, argv[4]);
  g_signal_connect(server, "client-connected", G_CALLBACK(on_client_connected), NULL);
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
