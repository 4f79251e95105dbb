// NativePipeline::limitKeyframeRequests: at most one keyframe request per
// interval reaches the encoder (see pipeline.h).
#include <atomic>

#include "args.h"
#include "gst_error.h"
#include "object.h"
#include "pipeline.h"

// Every receiver's PLI or FIR becomes an upstream GstForceKeyUnit event
// (rtpsession), and a fan-out tee forwards each viewer's to the one shared
// encoder: unchecked, a few lossy viewers would make it encode keyframes back to
// back. A pad probe on the path upstream lets one request through per interval
// and drops the rest; each request is posted (`keyframe-request` { passed })
// so that TypeScript can count them and ask again once the interval is over.

namespace {

struct KeyframeLimiter {
  DispatchTarget* target;
  gint64 intervalUs;
  std::atomic<gint64> lastPassedUs{G_MININT64 / 2};
  static void Free(gpointer data) {
    auto* self = static_cast<KeyframeLimiter*>(data);
    DispatchTarget::FreeNotify(self->target);
    delete self;
  }
};

GstPadProbeReturn OnUpstreamEvent(GstPad*, GstPadProbeInfo* info, gpointer data) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_UPSTREAM || !gst_event_has_name(event, "GstForceKeyUnit")) return GST_PAD_PROBE_OK;
  auto* limiter = static_cast<KeyframeLimiter*>(data);
  const gint64 now = g_get_monotonic_time();
  gint64 last = limiter->lastPassedUs.load();
  // Requests can come from several streaming threads at once: only one of them passes.
  const bool passed = now - last >= limiter->intervalUs && limiter->lastPassedUs.compare_exchange_strong(last, now);
  limiter->target->Post("keyframe-request", gst_structure_new("request", "passed", G_TYPE_BOOLEAN, passed, nullptr));
  return passed ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

}  // namespace

// limitKeyframeRequests(pad, intervalMs) -> target id. From now on keyframe
// requests travelling upstream through the pad pass at most once per interval.
Napi::Value NativePipeline::LimitKeyframeRequests(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef pad = PadArg(info[0], "limitKeyframeRequests");
  RequireType(info.Env(), info[1].IsNumber() && info[1].As<Napi::Number>().DoubleValue() >= 0, "limitKeyframeRequests: intervalMs must be a non-negative number");
  const uint32_t target = dispatcher_->NewTargetId();
  auto* limiter = new KeyframeLimiter{DispatchTarget::New(dispatcher_, target), static_cast<gint64>(info[1].As<Napi::Number>().DoubleValue() * 1000)};
  gst_pad_add_probe(GST_PAD(pad.get()), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, OnUpstreamEvent, limiter, KeyframeLimiter::Free);
  return Napi::Number::New(info.Env(), target);
}

namespace {

GstPadProbeReturn DropDeltaUnits(GstPad*, GstPadProbeInfo* info, gpointer) {
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)) return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_REMOVE;  // the first keyframe passes, and so does everything after it
}

}  // namespace

// dropUntilKeyframe(pad): buffers through this src pad are dropped until the
// first keyframe, which passes with everything after it. A viewer switched to
// another encode starts at a picture it can decode, never at frames that
// refer to pictures it never got.
void NativePipeline::DropUntilKeyframe(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  ObjectRef pad = PadArg(info[0], "dropUntilKeyframe");
  gst_pad_add_probe(GST_PAD(pad.get()), GST_PAD_PROBE_TYPE_BUFFER, DropDeltaUnits, nullptr, nullptr);
}
