// LatencyProbe: records the moment each buffer crosses one pad, so that latency
// can be measured from JS without running JS on a streaming thread. Benchmarks
// only: built as an addon of its own (binding.gyp's gst_webrtc_node_bench), which
// takes the element handles of the package's addon (NativeObject::FromTagged).
//
//   const probe = new LatencyProbe(element, 'src', { limit: 0, rtp: false });
//   probe.take();   // Float64Array [clockTime, pts, rtpTime, clockTime, pts, rtpTime, ...]
//   probe.remove(); // idempotent; also done when the JS handle is collected
//
// Per buffer it records three numbers: the time on GStreamer's system clock in
// nanoseconds (CLOCK_MONOTONIC: the clock of every pipeline without a clock
// provider, and the clock process.hrtime() reads, so times from different
// pipelines and from JS compare), the buffer's PTS in nanoseconds, and with
// `rtp: true` the RTP timestamp of an RTP packet. Missing values are -1.
// `limit` > 0 removes the probe after that many buffers. The streaming thread
// only appends under a mutex; take() copies and clears under the same mutex.
#include <gst/gst.h>
#include <sys/resource.h>
#include <napi.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gst_error.h"
#include "object.h"

namespace {

// At most this many buffers wait for take(); later ones are not recorded.
constexpr size_t kMaxPending = 1 << 20;

struct Recording {
  std::mutex mutex;
  std::vector<double> values;  // three per buffer
  size_t recorded = 0;
  size_t limit = 0;  // 0: no limit
  bool rtp = false;
  GstClock* clock = gst_system_clock_obtain();
  ~Recording() { gst_object_unref(clock); }
};

double RtpTime(GstBuffer* buffer) {
  guint8 header[8];
  if (gst_buffer_extract(buffer, 0, header, sizeof header) != sizeof header || (header[0] >> 6) != 2) return -1;
  return static_cast<double>((guint32(header[4]) << 24) | (guint32(header[5]) << 16) | (guint32(header[6]) << 8) | guint32(header[7]));
}

// Streaming thread. Returns false once the limit is reached.
bool Record(Recording* recording, GstBuffer* buffer, GstClockTime now) {
  if (recording->limit > 0 && recording->recorded >= recording->limit) return false;
  recording->recorded++;
  if (recording->values.size() >= 3 * kMaxPending) return true;
  GstClockTime pts = GST_BUFFER_PTS(buffer);
  recording->values.push_back(static_cast<double>(now));
  recording->values.push_back(GST_CLOCK_TIME_IS_VALID(pts) ? static_cast<double>(pts) : -1);
  recording->values.push_back(recording->rtp ? RtpTime(buffer) : -1);
  return true;
}

GstPadProbeReturn OnBuffer(GstPad*, GstPadProbeInfo* info, gpointer data) {
  Recording* recording = static_cast<std::shared_ptr<Recording>*>(data)->get();
  GstClockTime now = gst_clock_get_time(recording->clock);
  std::lock_guard<std::mutex> lock(recording->mutex);
  bool more = true;
  if (GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info); (info->type & GST_PAD_PROBE_TYPE_BUFFER) != 0 && buffer != nullptr) {
    more = Record(recording, buffer, now);
  } else if (GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info); list != nullptr) {
    for (guint i = 0, n = gst_buffer_list_length(list); i < n && more; i++) more = Record(recording, gst_buffer_list_get(list, i), now);
  }
  bool done = recording->limit > 0 && recording->recorded >= recording->limit;
  return more && !done ? GST_PAD_PROBE_OK : GST_PAD_PROBE_REMOVE;
}

void FreeProbeData(gpointer data) { delete static_cast<std::shared_ptr<Recording>*>(data); }

class LatencyProbe : public Napi::ObjectWrap<LatencyProbe> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    exports.Set("LatencyProbe", DefineClass(env, "LatencyProbe",
                                            {
                                                InstanceMethod<&LatencyProbe::Take>("take"),
                                                InstanceMethod<&LatencyProbe::Remove>("remove"),
                                            }));
  }

  // new LatencyProbe(element: NativeObject, padName: string, options?: { limit?: number, rtp?: boolean })
  explicit LatencyProbe(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LatencyProbe>(info) {
    Napi::Env env = info.Env();
    g_weak_ref_init(&pad_, nullptr);
    ObjectRef element = NativeObject::FromTagged(env, info[0]);
    RequireType(env, element != nullptr && GST_IS_ELEMENT(element.get()), "expected an element");
    RequireType(env, info[1].IsString(), "pad name must be a string");
    std::string padName = info[1].As<Napi::String>().Utf8Value();
    if (info.Length() > 2 && info[2].IsObject()) {
      Napi::Object options = info[2].As<Napi::Object>();
      Napi::Value limit = options.Get("limit");
      Napi::Value rtp = options.Get("rtp");
      RequireType(env, limit.IsUndefined() || (limit.IsNumber() && limit.As<Napi::Number>().DoubleValue() >= 0), "limit must be a non-negative number");
      if (limit.IsNumber()) recording_->limit = static_cast<size_t>(limit.As<Napi::Number>().Int64Value());
      recording_->rtp = rtp.ToBoolean().Value();
    }
    GstPad* pad = gst_element_get_static_pad(GST_ELEMENT(element.get()), padName.c_str());
    if (pad == nullptr) throw Napi::TypeError::New(env, std::string(GST_OBJECT_NAME(element.get())) + " has no pad named '" + padName + "'");
    g_weak_ref_set(&pad_, pad);
    probeId_ = gst_pad_add_probe(pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST), OnBuffer,
                                 new std::shared_ptr<Recording>(recording_), FreeProbeData);
    gst_object_unref(pad);
  }

  ~LatencyProbe() override {
    RemoveProbe();
    g_weak_ref_clear(&pad_);
  }

 private:
  Napi::Value Take(const Napi::CallbackInfo& info) {
    std::vector<double> values;
    {
      std::lock_guard<std::mutex> lock(recording_->mutex);
      values.swap(recording_->values);
    }
    Napi::Float64Array result = Napi::Float64Array::New(info.Env(), values.size());
    std::copy(values.begin(), values.end(), result.Data());
    return result;
  }

  void Remove(const Napi::CallbackInfo&) { RemoveProbe(); }

  void RemoveProbe() {
    if (probeId_ == 0) return;
    // A probe that reached its limit removed itself; removing it again only logs, so check first.
    // The lock orders this against OnBuffer deciding to remove itself (probes run without the pad's lock).
    if (auto* pad = static_cast<GstPad*>(g_weak_ref_get(&pad_))) {
      std::lock_guard<std::mutex> lock(recording_->mutex);
      if (recording_->limit == 0 || recording_->recorded < recording_->limit) gst_pad_remove_probe(pad, probeId_);
      gst_object_unref(pad);
    }
    probeId_ = 0;
  }

  std::shared_ptr<Recording> recording_ = std::make_shared<Recording>();
  GWeakRef pad_;
  gulong probeId_ = 0;
};

}  // namespace

// The benchmarks' own addon (gst_webrtc_node_bench.node), separate from the one
// the package ships: bench/support/latency-probe.ts loads it.
// threadUsage(out: Float64Array(3)): the calling thread's CPU time (ns) and its
// voluntary and involuntary context switches so far (getrusage RUSAGE_THREAD).
// Sampled around each native call on the JS thread, it tells a call that did
// work (CPU time) from one that waited on a lock (a voluntary switch) and from
// one that was only preempted (an involuntary switch).
void ThreadUsage(const Napi::CallbackInfo& info) {
  RequireType(info.Env(), info[0].IsTypedArray() && info[0].As<Napi::TypedArray>().TypedArrayType() == napi_float64_array,
              "expected a Float64Array");
  Napi::Float64Array out = info[0].As<Napi::Float64Array>();
  RequireType(info.Env(), out.ElementLength() >= 3, "expected 3 elements");
  struct rusage usage {};
  getrusage(RUSAGE_THREAD, &usage);
  out[0] = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e9 + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e3;
  out[1] = static_cast<double>(usage.ru_nvcsw);
  out[2] = static_cast<double>(usage.ru_nivcsw);
}

Napi::Object InitBenchAddon(Napi::Env env, Napi::Object exports) {
  LatencyProbe::Init(env, exports);
  exports.Set("threadUsage", Napi::Function::New<ThreadUsage>(env, "threadUsage"));
  return exports;
}

NODE_API_MODULE(gst_webrtc_node_bench, InitBenchAddon)
