#include "parse.h"

#include <mutex>

namespace {

// Set on a thread while it parses: its CRITICALs are kept here (the first one), not printed.
thread_local std::string* criticalDuringParse = nullptr;

void OnCritical(const gchar* domain, GLogLevelFlags level, const gchar* message, gpointer) {
  if (criticalDuringParse == nullptr) {
    g_log_default_handler(domain, level, message, nullptr);
    return;
  }
  if (criticalDuringParse->empty()) criticalDuringParse->assign(message != nullptr ? message : "a CRITICAL");
}

void InstallHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    // The domains of GStreamer's core (pads, links, bins) and of GObject (properties).
    for (const char* domain : {"GStreamer", "GLib-GObject"}) g_log_set_handler(domain, G_LOG_LEVEL_CRITICAL, OnCritical, nullptr);
  });
}

template <typename Parse>
GstElement* Guarded(Parse parse, GError** error) {
  InstallHandlers();
  std::string critical;
  criticalDuringParse = &critical;
  GstElement* element = parse();
  criticalDuringParse = nullptr;
  if (critical.empty()) return element;
  if (element != nullptr) gst_object_unref(gst_object_ref_sink(element));
  g_clear_error(error);
  g_set_error(error, GST_PARSE_ERROR, GST_PARSE_ERROR_LINK, "GStreamer cannot build this description: %s", critical.c_str());
  return nullptr;
}

}  // namespace

GstElement* ParseLaunch(const std::string& description, GError** error) {
  return Guarded([&] { return gst_parse_launch_full(description.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, error); }, error);
}

GstElement* ParseBin(const std::string& description, GError** error) {
  return Guarded([&] { return gst_parse_bin_from_description_full(description.c_str(), TRUE, nullptr, GST_PARSE_FLAG_FATAL_ERRORS, error); }, error);
}
