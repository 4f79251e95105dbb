#include "gop_cache.h"

#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "gst_error.h"
#include "object.h"

namespace {

// Spacing of the replayed frames' timestamps: the cached group is retimed to end
// just before the live frame that follows it, so a receiver decodes it at once
// and a leaky queue on the way (a fan-out viewer's, bounded in time, 1 s by
// default) keeps it. 1 ms apart, closer for a long group so that the whole
// replay spans at most kMaxReplaySpan, but never under 100 us (9 ticks of the
// 90 kHz RTP clock: each frame keeps a timestamp of its own).
constexpr GstClockTime kReplaySpacing = GST_MSECOND;
constexpr GstClockTime kMaxReplaySpan = 200 * GST_MSECOND;
constexpr GstClockTime kMinReplaySpacing = 100 * GST_USECOND;

// The recorded group of pictures. Written on the streaming thread of the pad it
// watches; read on that same thread (a tee pushes to its src pads from its sink
// pad's chain) and from JS for statistics, hence the mutex.
class GopCache {
 public:
  explicit GopCache(size_t maxBytes) : maxBytes_(maxBytes) {}
  ~GopCache() { Clear(); }

  GopCache* Ref() {
    refs_.fetch_add(1);
    return this;
  }
  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }
  static void UnrefNotify(gpointer cache) { static_cast<GopCache*>(cache)->Unref(); }

  void SetLimit(size_t maxBytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    maxBytes_ = maxBytes;
    if (bytes_ > maxBytes_) DropLocked(true);
  }

  // A keyframe starts a new group and drops the old one; a frame that would
  // take the group over the byte limit drops it too (a group without its
  // keyframe is useless), and nothing is kept until the next keyframe.
  void Record(GstBuffer* buffer) {
    std::lock_guard<std::mutex> lock(mutex_);
    const bool keyframe = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
    if (keyframe) {
      DropLocked(false);
      collecting_ = true;
      keyframes_++;
    }
    if (!collecting_) return;
    const size_t size = gst_buffer_get_size(buffer);
    if (bytes_ + size > maxBytes_) {
      DropLocked(true);
      return;
    }
    buffers_.push_back(gst_buffer_ref(buffer));
    bytes_ += size;
  }

  // A new stream, new caps or a flush: what was kept no longer fits what follows.
  void Reset() {
    std::lock_guard<std::mutex> lock(mutex_);
    DropLocked(false);
  }

  // Copies (sharing their memory) of the frames recorded before `live`, retimed
  // to end just before it; empty when `live` starts a group or nothing is kept.
  std::vector<GstBuffer*> ReplayBefore(GstBuffer* live) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<GstBuffer*> replay;
    size_t count = 0;
    while (count < buffers_.size() && buffers_[count] != live) count++;
    // `live` is normally the last frame recorded (the tee records before it pushes).
    const GstClockTime spacing = count == 0 ? kReplaySpacing : std::max(kMinReplaySpacing, std::min(kReplaySpacing, kMaxReplaySpan / count));
    for (size_t index = 0; index < count; index++) {
      GstBuffer* copy = gst_buffer_copy(buffers_[index]);
      const GstClockTime back = (count - index) * spacing;
      if (GST_BUFFER_PTS_IS_VALID(live) && GST_BUFFER_PTS(live) >= back) GST_BUFFER_PTS(copy) = GST_BUFFER_PTS(live) - back;
      if (GST_BUFFER_DTS_IS_VALID(live) && GST_BUFFER_DTS(live) >= back) GST_BUFFER_DTS(copy) = GST_BUFFER_DTS(live) - back;
      else if (GST_BUFFER_DTS_IS_VALID(copy)) GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
      GST_BUFFER_DURATION(copy) = spacing;
      replay.push_back(copy);
    }
    replays_++;
    return replay;
  }

  Napi::Object Stats(Napi::Env env) {
    std::lock_guard<std::mutex> lock(mutex_);
    Napi::Object stats = Napi::Object::New(env);
    stats.Set("frames", static_cast<double>(buffers_.size()));
    stats.Set("bytes", static_cast<double>(bytes_));
    stats.Set("maxBytes", static_cast<double>(maxBytes_));
    stats.Set("keyframes", static_cast<double>(keyframes_));
    stats.Set("overflows", static_cast<double>(overflows_));
    stats.Set("replays", static_cast<double>(replays_));
    return stats;
  }

 private:
  void DropLocked(bool overflow) {
    for (GstBuffer* buffer : buffers_) gst_buffer_unref(buffer);
    buffers_.clear();
    bytes_ = 0;
    collecting_ = false;
    if (overflow) overflows_++;
  }
  void Clear() { DropLocked(false); }

  std::mutex mutex_;
  std::vector<GstBuffer*> buffers_;
  size_t bytes_ = 0;
  size_t maxBytes_;
  bool collecting_ = false;
  uint64_t keyframes_ = 0;
  uint64_t overflows_ = 0;
  uint64_t replays_ = 0;
  std::atomic<int> refs_{1};
};

GQuark CacheQuark() {
  static GQuark quark = g_quark_from_static_string("gst-webrtc-node-gop-cache");
  return quark;
}

GopCache* CacheOf(GstPad* pad) { return static_cast<GopCache*>(g_object_get_qdata(G_OBJECT(pad), CacheQuark())); }

ObjectRef PadArg(const Napi::Value& value, const char* what) {
  ObjectRef object = NativeObject::From(value);
  RequireType(value.Env(), object != nullptr && GST_IS_PAD(object.get()), what);
  return object;
}

gboolean RecordEach(GstBuffer** buffer, guint, gpointer cache) {
  static_cast<GopCache*>(cache)->Record(*buffer);
  return TRUE;
}

GstPadProbeReturn RecordProbe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* cache = static_cast<GopCache*>(data);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    cache->Record(GST_PAD_PROBE_INFO_BUFFER(info));
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    gst_buffer_list_foreach(GST_PAD_PROBE_INFO_BUFFER_LIST(info), RecordEach, cache);
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    switch (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info))) {
      case GST_EVENT_STREAM_START:
      case GST_EVENT_CAPS:
      case GST_EVENT_FLUSH_STOP:
      case GST_EVENT_EOS:
        cache->Reset();
        break;
      default:
        break;
    }
  }
  return GST_PAD_PROBE_OK;
}

// One replay, armed on a target pad: at the next buffer through it, the cached
// group is pushed first, then that buffer follows as usual (live from then on).
struct Replay {
  GopCache* cache;
  std::atomic<bool> done{false};
  static void Free(gpointer replay) {
    auto* self = static_cast<Replay*>(replay);
    self->cache->Unref();
    delete self;
  }
};

GstPadProbeReturn ReplayProbe(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* replay = static_cast<Replay*>(data);
  // The pushes below pass this probe again: `done` lets them through, and the outer call removes it.
  if (replay->done.exchange(true)) return GST_PAD_PROBE_OK;
  for (GstBuffer* buffer : replay->cache->ReplayBefore(GST_PAD_PROBE_INFO_BUFFER(info))) {
    if (gst_pad_push(pad, buffer) != GST_FLOW_OK) break;  // a push takes its buffer, whatever it returns
  }
  return GST_PAD_PROBE_REMOVE;
}

// gopCacheAttach(pad, maxBytes): records the group of pictures that flows
// through `pad` (compressed video whose non-keyframes carry DELTA_UNIT, e.g.
// after h264parse), at most `maxBytes`. Again on the same pad: sets the limit.
void Attach(const Napi::CallbackInfo& info) {
  ObjectRef padRef = PadArg(info[0], "gopCacheAttach: expected a pad");
  RequireType(info.Env(), info[1].IsNumber() && info[1].As<Napi::Number>().DoubleValue() >= 0, "gopCacheAttach: maxBytes must be a non-negative number");
  const auto maxBytes = static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue());
  GstPad* pad = GST_PAD(padRef.get());
  GST_OBJECT_LOCK(pad);
  GopCache* cache = CacheOf(pad);
  const bool fresh = cache == nullptr;
  if (fresh) {
    cache = new GopCache(maxBytes);
    g_object_set_qdata_full(G_OBJECT(pad), CacheQuark(), cache, GopCache::UnrefNotify);
  }
  cache->Ref();
  GST_OBJECT_UNLOCK(pad);
  if (fresh) {
    const auto types = static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM);
    gst_pad_add_probe(pad, types, RecordProbe, cache->Ref(), GopCache::UnrefNotify);
  } else {
    cache->SetLimit(maxBytes);
  }
  cache->Unref();
}

// gopCacheReplay(cachePad, targetPad) -> whether a replay was armed: at the next
// buffer through `targetPad` (downstream of `cachePad` on the same streaming
// thread, e.g. a tee's src pad), what `cachePad` recorded goes first. Returns at
// once; false when `cachePad` has no cache.
Napi::Value ReplayOn(const Napi::CallbackInfo& info) {
  ObjectRef cachePad = PadArg(info[0], "gopCacheReplay: expected the pad with the cache");
  ObjectRef target = PadArg(info[1], "gopCacheReplay: expected the pad to replay on");
  GST_OBJECT_LOCK(cachePad.get());
  GopCache* cache = CacheOf(GST_PAD(cachePad.get()));
  if (cache != nullptr) cache->Ref();
  GST_OBJECT_UNLOCK(cachePad.get());
  if (cache == nullptr) return Napi::Boolean::New(info.Env(), false);
  auto* replay = new Replay{cache};
  gst_pad_add_probe(GST_PAD(target.get()), GST_PAD_PROBE_TYPE_BUFFER, ReplayProbe, replay, Replay::Free);
  return Napi::Boolean::New(info.Env(), true);
}

// gopCacheStats(pad) -> { frames, bytes, maxBytes, keyframes, overflows, replays }, or null without a cache.
Napi::Value Stats(const Napi::CallbackInfo& info) {
  ObjectRef padRef = PadArg(info[0], "gopCacheStats: expected a pad");
  GST_OBJECT_LOCK(padRef.get());
  GopCache* cache = CacheOf(GST_PAD(padRef.get()));
  if (cache != nullptr) cache->Ref();
  GST_OBJECT_UNLOCK(padRef.get());
  if (cache == nullptr) return info.Env().Null();
  Napi::Object stats = cache->Stats(info.Env());
  cache->Unref();
  return stats;
}

}  // namespace

void InitGopCache(Napi::Env env, Napi::Object exports) {
  exports.Set("gopCacheAttach", Napi::Function::New<Attach>(env, "gopCacheAttach"));
  exports.Set("gopCacheReplay", Napi::Function::New<ReplayOn>(env, "gopCacheReplay"));
  exports.Set("gopCacheStats", Napi::Function::New<Stats>(env, "gopCacheStats"));
}
