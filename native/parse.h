// gst_parse_launch() and gst_parse_bin_from_description() with a safety net:
// a GLib CRITICAL that GStreamer prints while it parses and links a description
// (GStreamer 1.22's linking has checks a description can reach, e.g.
// `webrtcbin ! tee`, which links a request sink pad as a source) becomes a parse
// error on that call, and the partly built result is discarded. CRITICALs on
// other threads, and outside a parse, are printed as before.
#pragma once

#include <gst/gst.h>

#include <string>

// Any thread. As gst_parse_launch_full(description, NULL, GST_PARSE_FLAG_FATAL_ERRORS, error).
GstElement* ParseLaunch(const std::string& description, GError** error);

// Any thread. As gst_parse_bin_from_description_full(description, TRUE, NULL, GST_PARSE_FLAG_FATAL_ERRORS, error).
GstElement* ParseBin(const std::string& description, GError** error);
