// Keyframe requests on their way upstream, and keyframes on their way down.
//
// limitKeyframeRequests(pad, minIntervalMs, notify) -> target id (0 without
// notify), or null when the pad has a limit already (the first one stays): a probe
// on a src pad that lets an upstream GstForceKeyUnit event through at most once
// per interval and drops the others. Two places use it:
// - a receiving track's pad: depayloaders send a request for every frame they
//   drop while waiting for a keyframe, decoders one per loss or failed frame;
//   rtpsession turns the ones let through into PLI (or FIR);
// - an encoder's output: every receiver's PLI or FIR becomes a request, and a
//   fan-out tee forwards each viewer's to the one shared encoder, which would
//   otherwise encode keyframes back to back. With `notify`, each request is
//   posted (`keyframe-request` { passed }) so that TypeScript can ask once more
//   when the interval is over on behalf of the ones dropped.
// The event's "count" is removed: rtpsession gives a FIR the sequence number of
// the previous one when its count is unchanged, and depayloaders always send
// count 0, so every FIR after the first would repeat a number, and a sender
// (libwebrtc) ignores a FIR whose number it has seen.
//
// keyframeRequestCounts(pad) -> { forwarded, dropped } or null without a limit.
//
// dropUntilKeyframe(pad): buffers through this src pad are dropped until the
// first keyframe, which passes with everything after it. A viewer switched to
// another encode starts at a picture it can decode, never at frames that refer
// to pictures it never got.
#include <atomic>
#include <cmath>

#include "args.h"
#include "gst_error.h"
#include "object.h"
#include "pipeline.h"

namespace {

struct Limit {
  GstClockTime minInterval;
  GstClockTime last = GST_CLOCK_TIME_NONE;  // under lock
  GMutex lock;
  std::atomic<uint64_t> forwarded{0};
  std::atomic<uint64_t> dropped{0};
  DispatchTarget* target;  // null: nobody listens
  Limit(GstClockTime interval, DispatchTarget* target) : minInterval(interval), target(target) { g_mutex_init(&lock); }
  ~Limit() {
    g_mutex_clear(&lock);
    if (target != nullptr) DispatchTarget::Free(target);
  }
};

const char* const kQuark = "gst-webrtc-node-keyframe-limit";

GstPadProbeReturn OnUpstreamEvent(GstPad*, GstPadProbeInfo* info, gpointer data) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_UPSTREAM || !gst_event_has_name(event, "GstForceKeyUnit")) return GST_PAD_PROBE_OK;
  auto* limit = static_cast<Limit*>(data);
  const GstClockTime now = gst_util_get_timestamp();
  // Requests come from more than one streaming thread (a decoder's and a depayloader's, or several viewers').
  g_mutex_lock(&limit->lock);
  const bool passed = limit->last == GST_CLOCK_TIME_NONE || now >= limit->last + limit->minInterval;
  if (passed) limit->last = now;
  g_mutex_unlock(&limit->lock);
  if (limit->target != nullptr) limit->target->Post("keyframe-request", gst_structure_new("request", "passed", G_TYPE_BOOLEAN, passed, nullptr));
  if (!passed) {
    limit->dropped++;
    return GST_PAD_PROBE_DROP;
  }
  limit->forwarded++;
  event = gst_event_make_writable(event);
  gst_structure_remove_field(gst_event_writable_structure(event), "count");
  GST_PAD_PROBE_INFO_DATA(info) = event;
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn DropDeltaUnits(GstPad*, GstPadProbeInfo* info, gpointer) {
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)) return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_REMOVE;  // the first keyframe passes, and so does everything after it
}

}  // namespace

Napi::Value NativePipeline::LimitKeyframeRequests(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef pad = PadArg(info[0], "limitKeyframeRequests");
  const double ms = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : -1;
  RequireType(info.Env(), std::isfinite(ms) && ms >= 0 && ms <= 1e12, "limitKeyframeRequests: minIntervalMs must be a number of milliseconds, 0 to 10^12");
  if (g_object_get_data(pad.get(), kQuark) != nullptr) return info.Env().Null();
  const bool notify = info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  const uint32_t target = notify ? dispatcher_->NewTargetId() : 0;
  auto* limit = new Limit(static_cast<GstClockTime>(ms * GST_MSECOND), notify ? DispatchTarget::New(dispatcher_, target) : nullptr);
  // The pad owns the limit: freed with the pad, after its probe is gone.
  g_object_set_data_full(pad.get(), kQuark, limit, [](gpointer data) { delete static_cast<Limit*>(data); });
  gst_pad_add_probe(GST_PAD(pad.get()), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, OnUpstreamEvent, limit, nullptr);
  return Napi::Number::New(info.Env(), target);
}

Napi::Value NativePipeline::KeyframeRequestCounts(const Napi::CallbackInfo& info) {
  ObjectRef pad = PadArg(info[0], "keyframeRequestCounts");
  auto* limit = static_cast<Limit*>(g_object_get_data(pad.get(), kQuark));
  if (limit == nullptr) return info.Env().Null();
  Napi::Object counts = Napi::Object::New(info.Env());
  counts.Set("forwarded", static_cast<double>(limit->forwarded.load()));
  counts.Set("dropped", static_cast<double>(limit->dropped.load()));
  return counts;
}

void NativePipeline::DropUntilKeyframe(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef pad = PadArg(info[0], "dropUntilKeyframe");
  gst_pad_add_probe(GST_PAD(pad.get()), GST_PAD_PROBE_TYPE_BUFFER, DropDeltaUnits, nullptr, nullptr);
}
