// Keyframe requests from a receiving branch, rate-limited where they leave it.
//
// limitKeyframeRequests(pad, minIntervalMs): a probe on a webrtcbin src pad (a
// track's pad) that lets an upstream GstForceKeyUnit event through at most once
// per interval and drops the others; rtpsession turns the ones let through into
// PLI (or FIR). Depayloaders send one for every frame they drop while waiting
// for a keyframe, decoders one per loss or failed frame: without a limit a
// sender is asked many times for the same keyframe.
// The event's "count" is removed: rtpsession gives a FIR the sequence number of
// the previous one when its count is unchanged, and depayloaders always send
// count 0, so every FIR after the first would repeat a number, and a sender
// (libwebrtc) ignores a FIR whose number it has seen.
//
// keyframeRequestCounts(pad) -> { forwarded, dropped } or null without a limit.
#include <gst/gst.h>
#include <napi.h>

#include <atomic>
#include <cmath>

#include "args.h"
#include "keyframe_requests.h"
#include "object.h"

namespace {

struct Limit {
  GstClockTime minInterval;
  GstClockTime last = GST_CLOCK_TIME_NONE;  // under lock
  GMutex lock;
  std::atomic<uint64_t> forwarded{0};
  std::atomic<uint64_t> dropped{0};
  explicit Limit(GstClockTime interval) : minInterval(interval) { g_mutex_init(&lock); }
  ~Limit() { g_mutex_clear(&lock); }
};

const char* const kQuark = "gst-webrtc-node-keyframe-limit";

GstPadProbeReturn OnUpstreamEvent(GstPad*, GstPadProbeInfo* info, gpointer data) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_UPSTREAM || !gst_event_has_name(event, "GstForceKeyUnit")) return GST_PAD_PROBE_OK;
  auto* limit = static_cast<Limit*>(data);
  const GstClockTime now = gst_util_get_timestamp();
  // Events can come from more than one thread (a decoder's and a depayloader's).
  g_mutex_lock(&limit->lock);
  const bool allowed = limit->last == GST_CLOCK_TIME_NONE || now >= limit->last + limit->minInterval;
  if (allowed) limit->last = now;
  g_mutex_unlock(&limit->lock);
  if (!allowed) {
    limit->dropped++;
    return GST_PAD_PROBE_DROP;
  }
  limit->forwarded++;
  event = gst_event_make_writable(event);
  gst_structure_remove_field(gst_event_writable_structure(event), "count");
  GST_PAD_PROBE_INFO_DATA(info) = event;
  return GST_PAD_PROBE_OK;
}

Napi::Value LimitKeyframeRequests(const Napi::CallbackInfo& info) {
  ObjectRef pad = PadArg(info[0], "pad");
  const double ms = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : -1;
  if (!std::isfinite(ms) || ms < 0 || ms > 1e12)
    throw Napi::TypeError::New(info.Env(), "minIntervalMs: expected a number of milliseconds, 0 to 10^12");
  if (g_object_get_data(pad.get(), kQuark) != nullptr) return info.Env().Undefined();  // once per pad
  auto* limit = new Limit(static_cast<GstClockTime>(ms * GST_MSECOND));
  // The pad owns the limit: freed with the pad, after its probe is gone.
  g_object_set_data_full(pad.get(), kQuark, limit, [](gpointer data) { delete static_cast<Limit*>(data); });
  gst_pad_add_probe(GST_PAD(pad.get()), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, OnUpstreamEvent, limit, nullptr);
  return info.Env().Undefined();
}

Napi::Value KeyframeRequestCounts(const Napi::CallbackInfo& info) {
  ObjectRef pad = PadArg(info[0], "pad");
  auto* limit = static_cast<Limit*>(g_object_get_data(pad.get(), kQuark));
  if (limit == nullptr) return info.Env().Null();
  Napi::Object counts = Napi::Object::New(info.Env());
  counts.Set("forwarded", static_cast<double>(limit->forwarded.load()));
  counts.Set("dropped", static_cast<double>(limit->dropped.load()));
  return counts;
}

}  // namespace

void InitKeyframeRequests(Napi::Env env, Napi::Object exports) {
  exports.Set("limitKeyframeRequests", Napi::Function::New<LimitKeyframeRequests>(env, "limitKeyframeRequests"));
  exports.Set("keyframeRequestCounts", Napi::Function::New<KeyframeRequestCounts>(env, "keyframeRequestCounts"));
}
