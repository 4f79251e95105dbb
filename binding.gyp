{
  "targets": [
    {
      "target_name": "gst_webrtc_node",
      "sources": [
        "native/addon.cc",
        "native/dispatcher.cc",
        "native/control_thread.cc",
        "native/value.cc",
        "native/gst_error.cc",
        "native/object.cc",
        "native/pipeline.cc",
        "native/parse.cc",
        "native/pipeline_branches.cc",
        "native/webrtcbin.cc",
        "native/data_channel.cc",
        "native/gop_cache.cc",
        "native/warm_up.cc",
        "native/bin_elements.cc",
        "native/keyframe_requests.cc",
        "native/pacer.cc",
        "native/ice_transports.cc",
        "native/ice_state_sync.cc",
        "native/sctp_send_window.cc",
        "native/sctp_transport.cc",
        "native/dtls_certificate.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "GST_USE_UNSTABLE_API"
      ],
      "cflags!": [
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-exceptions"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-Wall",
        "-Wextra",
        "-Wno-missing-field-initializers",
        "<!@(pkg-config --cflags gstreamer-1.0 gstreamer-webrtc-1.0 gstreamer-sdp-1.0 nice)"
      ],
      "libraries": [
        "<!@(pkg-config --libs gstreamer-1.0 gstreamer-webrtc-1.0 gstreamer-sdp-1.0 nice)"
      ]
    },
    {
      "target_name": "gst_webrtc_node_bench",
      "sources": [
        "native/latency_probe.cc",
        "native/gst_error.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "GST_USE_UNSTABLE_API"
      ],
      "cflags!": [
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-exceptions"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-Wall",
        "-Wextra",
        "-Wno-missing-field-initializers",
        "<!@(pkg-config --cflags gstreamer-1.0 gstreamer-webrtc-1.0 gstreamer-sdp-1.0)"
      ],
      "libraries": [
        "<!@(pkg-config --libs gstreamer-1.0 gstreamer-webrtc-1.0 gstreamer-sdp-1.0)"
      ]
    }
  ]
}
