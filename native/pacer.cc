// A pacer on a webrtcbin's RTP send path, and a limit on its retransmissions
// (issue 13). The policy (rates) is TypeScript's (lib/media/congestion/pacer.ts);
// this file only waits and counts.
//
// Without it, a keyframe leaves as one burst at the speed of the sending
// thread, and every NACK is answered at once: behind a bottleneck with a short
// queue the burst overflows it, the receiver NACKs what was lost, and the
// retransmissions (unpaced, and repeated for each NACK of the same packet)
// overflow it again. Measured on a 1 Mbit/s tbf link with a 100 ms queue:
// 16,460 retransmissions for about 1,100 media packets in 10 s, and Chromium
// decoded 6 frames.
//
// pace(webrtcbin): from now on, each RTP session the webrtcbin makes gets a
// `queue` as its aux sender (`request-aux-sender`), which webrtcbin puts after
// its rtprtxsend and before rtpsession: media and retransmissions pass it.
//   - Its streaming thread waits (on the monotonic clock, never on JS) until
//     each packet's send time: packets leave at `rate` bit/s, faster when the
//     queue holds more than `maxQueueMs` at that rate (it then drains in that
//     time). Buffer lists (a payloader's frame) are split into packets first.
//   - Retransmission requests (rtpsession's upstream GstRTPRetransmissionRequest
//     events, one per NACKed packet) pass at most once per packet per
//     `retransmitIntervalMs`, and within a budget of `retransmitRate` bit/s
//     (saved up over 250 ms, and at least 8 packets).
//     A request held back is dropped: the receiver asks again. One refused
//     for the budget means the receiver will wait long for that packet
//     (Chromium up to 3 s before its own PLI): it becomes a keyframe request
//     to the encoder instead, at most once per `keyframeIntervalMs` (0: never).
//     Once a keyframe is asked for (so, or by the receiver's PLI/FIR), the
//     packets sent before are not retransmitted any more: it replaces them.
//   - skipPacerBacklog(webrtcbin), once the transport has connected: until
//     then webrtcbin holds its RTP path, and a live encoder's frames pile up
//     here (measured: 1 s, 123 KB, for a first connection to Chromium that
//     took 1.25 s), to leave at 2.5 times the target the moment it opens. The
//     packets queued by then are dropped instead, and a keyframe asked for.
//   - rtpsession tells its upstream, so this queue, what each TWCC feedback
//     said of each packet (its RTPTWCCPackets event: send and arrival times,
//     size, lost): kept here until JS takes it (takeTransportFeedback), for the
//     congestion controller's per-packet delay filter.
// Must be called before the webrtcbin applies its first description (its RTP
// session asks for the aux sender then).
//
// skipPacerBacklog(webrtcbin): see above.
// setPacing(webrtcbin, { rate, maxQueueMs, retransmitRate, retransmitIntervalMs, keyframeIntervalMs })
// pacingCounts(webrtcbin) -> { packets, bytes, waitedMs, retransmissionsPassed,
//   retransmissionsDropped, keyframesRequested, backlogDropped } or null when not paced.
// takeTransportFeedback(webrtcbin) -> Float64Array of [seqnum, sentMs,
//   arrivedMs (NaN: lost), bytes] per packet reported since the last call, or
//   null when not paced.
#include "pacer.h"

#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <vector>

#include "args.h"
#include "gst_error.h"
#include "object.h"

namespace {

const char* const kQuark = "gst-webrtc-node-pacing";
// A packet may leave this early (µs): credit after an idle moment, so that the
// first packets of a frame do not wait for the clock's granularity.
constexpr gint64 kBurstUs = 5000;
// The longest single sleep: the thread looks at its pad's flushing flag in between.
constexpr gint64 kSliceUs = 5000;
// The queue's own bound; leaky, so a full one drops its oldest packets and never blocks the thread pushing.
constexpr guint kQueueBytes = 4 * 1024 * 1024;
// The retransmission budget may save up this long (s).
constexpr double kBudgetWindowS = 0.25;
// ...and at least this many packets: a burst the bottleneck dropped is repaired
// by retransmissions rather than by a keyframe (itself about ten packets).
constexpr double kBudgetPackets = 8;
// Requests remembered for the per-packet interval (by sequence number modulo this).
constexpr guint kRecentRequests = 1024;
// Streams (SSRCs) one session's pacer follows: video, its RTX, audio.
constexpr guint kStreams = 8;
// Per-packet feedback kept for JS: about 10 s at 1 Mbit/s. JS takes it every
// few tens of ms; if it stops, the oldest half goes.
constexpr size_t kFeedbackPackets = 1024;
constexpr size_t kFeedbackFields = 4;  // seqnum, sentMs, arrivedMs, bytes

// One webrtcbin's pacing: set from JS, read by the streaming threads.
struct Pacing {
  std::atomic<double> rate{0};  // bit/s; 0: not paced
  std::atomic<double> maxQueueUs{500000};
  std::atomic<double> retransmitRate{0};  // bit/s; 0: no budget
  std::atomic<gint64> retransmitIntervalUs{0};
  std::atomic<gint64> keyframeIntervalUs{0};  // 0: never ask for a keyframe instead
  std::atomic<double> packetBytes{1200};  // moving average, the cost of a retransmission

  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> waitedUs{0};
  std::atomic<uint64_t> retransmissionsPassed{0};
  std::atomic<uint64_t> retransmissionsDropped{0};
  std::atomic<uint64_t> keyframesRequested{0};
  std::atomic<uint64_t> backlogDropped{0};
  // Bumped by skipPacerBacklog; each aux sender then drops what it holds.
  std::atomic<unsigned> skipGeneration{0};

  struct Request {
    bool used;
    guint ssrc;
    guint seqnum;
    gint64 atUs;
  };
  GMutex lock;  // guards the budget and the recent requests (the RTCP thread, or several)
  double tokens = 0;
  gint64 refilledUs = 0;
  gint64 keyframeAskedUs = G_MININT64 / 2;
  Request recent[kRecentRequests] = {};
  // Per stream: the last sequence number sent, and the last one sent before a
  // keyframe was asked for (by the receiver's PLI/FIR or by us): packets up to
  // it are not worth retransmitting, the keyframe replaces them.
  struct Stream {
    bool used;
    guint ssrc;
    guint16 lastSent;
    bool superseded;
    guint16 supersededUpTo;
  };
  Stream streams[kStreams] = {};
  std::vector<double> feedback;  // kFeedbackFields per packet

  Pacing() { g_mutex_init(&lock); }
  ~Pacing() { g_mutex_clear(&lock); }
  Pacing(const Pacing&) = delete;
  Pacing& operator=(const Pacing&) = delete;
};

using SharedPacing = std::shared_ptr<Pacing>;

// The state of one aux sender (a queue), shared by the probes on its two pads.
struct Paced {
  SharedPacing pacing;
  GstElement* queue;  // not referenced: the probes live on its pads
  gint64 nextSendUs = 0;  // src thread
  std::atomic<guint64> newestInPts{GST_CLOCK_TIME_NONE};  // the last buffer in (sink thread)
  unsigned skipGeneration = 0;  // src thread
  GstClockTime skipUpToPts = GST_CLOCK_TIME_NONE;  // src thread: drop buffers up to this
};
using SharedPaced = std::shared_ptr<Paced>;

void FreePaced(gpointer data) { delete static_cast<SharedPaced*>(data); }
Paced& PacedOf(gpointer data) { return **static_cast<SharedPaced*>(data); }

bool Flushing(GstPad* pad) {
  GST_OBJECT_LOCK(pad);
  const bool flushing = GST_PAD_IS_FLUSHING(pad);
  GST_OBJECT_UNLOCK(pad);
  return flushing;
}

// The upstream event an encoder takes as a keyframe request (rtpsession makes the same for a PLI).
GstStructure* NewKeyframeRequest() {
  return gst_structure_new("GstForceKeyUnit", "running-time", GST_TYPE_CLOCK_TIME, GST_CLOCK_TIME_NONE, "all-headers", G_TYPE_BOOLEAN, TRUE, "count",
                           G_TYPE_UINT, 0u, nullptr);
}

// The stream entry of `ssrc` (taken over when all are used); under the lock.
Pacing::Stream& StreamOf(Pacing& pacing, guint ssrc) {
  for (auto& stream : pacing.streams) {
    if (stream.used && stream.ssrc == ssrc) return stream;
  }
  for (auto& stream : pacing.streams) {
    if (!stream.used) {
      stream = {true, ssrc, 0, false, 0};
      return stream;
    }
  }
  pacing.streams[ssrc % kStreams] = {true, ssrc, 0, false, 0};
  return pacing.streams[ssrc % kStreams];
}

// Notes the sequence number of an RTP packet about to leave.
void NoteSent(Pacing& pacing, GstBuffer* buffer) {
  guint8 header[12];
  if (gst_buffer_extract(buffer, 0, header, sizeof header) != sizeof header || (header[0] >> 6) != 2) return;
  const guint ssrc = (guint{header[8]} << 24) | (guint{header[9]} << 16) | (guint{header[10]} << 8) | header[11];
  g_mutex_lock(&pacing.lock);
  StreamOf(pacing, ssrc).lastSent = static_cast<guint16>((header[2] << 8) | header[3]);
  g_mutex_unlock(&pacing.lock);
}

// A keyframe is coming (asked for now): what was sent so far needs no retransmission. Under the lock.
void SupersedeSent(Pacing& pacing) {
  for (auto& stream : pacing.streams) {
    if (!stream.used) continue;
    stream.superseded = true;
    stream.supersededUpTo = stream.lastSent;
  }
}

// On the src thread: whether the buffer was queued before skipPacerBacklog; the
// first one dropped asks for a keyframe, and no dropped or earlier packet is retransmitted.
bool DropIfBacklog(GstPad* pad, Paced& paced, GstBuffer* buffer) {
  Pacing& pacing = *paced.pacing;
  const unsigned generation = pacing.skipGeneration.load();
  bool first = false;
  if (generation != paced.skipGeneration) {
    paced.skipGeneration = generation;
    paced.skipUpToPts = paced.newestInPts.load();
    first = true;
  }
  if (!GST_CLOCK_TIME_IS_VALID(paced.skipUpToPts)) return false;
  if (!GST_BUFFER_PTS_IS_VALID(buffer) || GST_BUFFER_PTS(buffer) > paced.skipUpToPts) {
    paced.skipUpToPts = GST_CLOCK_TIME_NONE;  // the backlog is gone
    return false;
  }
  pacing.backlogDropped++;
  // As if sent and replaced by the keyframe: a NACK for it is refused, not answered with a stale packet.
  NoteSent(pacing, buffer);
  g_mutex_lock(&pacing.lock);
  SupersedeSent(pacing);
  g_mutex_unlock(&pacing.lock);
  if (first) {
    pacing.keyframesRequested++;
    // Up through the queue to the encoder, as a receiver's PLI would go.
    gst_pad_send_event(pad, gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, NewKeyframeRequest()));
  }
  return true;
}

// On the queue's streaming thread: waits until this packet's send time.
void WaitToSend(GstPad* pad, Paced& paced, gsize size) {
  Pacing& pacing = *paced.pacing;
  pacing.packets++;
  pacing.bytes += size;
  pacing.packetBytes = 0.95 * pacing.packetBytes.load() + 0.05 * static_cast<double>(size);
  const double rate = pacing.rate.load();
  if (rate <= 0) return;
  guint queued = 0;  // bytes behind this packet
  g_object_get(paced.queue, "current-level-bytes", &queued, nullptr);
  const double rateToDrain = static_cast<double>(queued) * 8 * 1e6 / std::max(1.0, pacing.maxQueueUs.load());
  const double effective = std::max(rate, rateToDrain);
  gint64 now = g_get_monotonic_time();
  paced.nextSendUs = std::max(paced.nextSendUs, now - kBurstUs);
  const gint64 sendAt = paced.nextSendUs;
  paced.nextSendUs += static_cast<gint64>(static_cast<double>(size) * 8 * 1e6 / effective);
  if (sendAt <= now) return;
  const gint64 started = now;
  while (now < sendAt && !Flushing(pad)) {
    g_usleep(static_cast<gulong>(std::min(sendAt - now, kSliceUs)));
    now = g_get_monotonic_time();
  }
  pacing.waitedUs += static_cast<uint64_t>(now - started);
}

enum class Answer { kRetransmit, kDrop, kKeyframe };

// On the thread that received the NACK: whether rtprtxsend gets this request,
// or (over the budget: the receiver will not get the packet soon) the encoder
// a keyframe request in its place.
Answer AnswerRetransmission(Pacing& pacing, guint ssrc, guint seqnum) {
  const gint64 now = g_get_monotonic_time();
  bool allowed = true;
  bool keyframe = false;
  g_mutex_lock(&pacing.lock);
  Pacing::Request& last = pacing.recent[seqnum % kRecentRequests];
  const Pacing::Stream& stream = StreamOf(pacing, ssrc);
  if (stream.superseded && static_cast<gint16>(static_cast<guint16>(seqnum) - stream.supersededUpTo) <= 0) {
    allowed = false;  // sent before a keyframe that replaces it
  } else if (last.used && last.ssrc == ssrc && last.seqnum == seqnum && now - last.atUs < pacing.retransmitIntervalUs.load()) {
    allowed = false;
  } else {
    const double rate = pacing.retransmitRate.load();
    if (rate > 0) {
      const double cost = pacing.packetBytes.load();
      const double capacity = std::max(rate / 8 * kBudgetWindowS, kBudgetPackets * cost);
      pacing.tokens = std::min(capacity, pacing.tokens + static_cast<double>(now - pacing.refilledUs) * rate / 8e6);
      pacing.refilledUs = now;
      allowed = pacing.tokens >= cost;
      if (allowed) pacing.tokens -= cost;
      const gint64 keyframeInterval = pacing.keyframeIntervalUs.load();
      if (!allowed && keyframeInterval > 0 && now - pacing.keyframeAskedUs >= keyframeInterval) {
        keyframe = true;
        pacing.keyframeAskedUs = now;
        SupersedeSent(pacing);
      }
    }
    if (allowed) last = {true, ssrc, seqnum, now};
  }
  g_mutex_unlock(&pacing.lock);
  (allowed ? pacing.retransmissionsPassed : pacing.retransmissionsDropped)++;
  if (keyframe) pacing.keyframesRequested++;
  return allowed ? Answer::kRetransmit : keyframe ? Answer::kKeyframe : Answer::kDrop;
}

// rtpsession's RTPTWCCPackets (gstrtpsession.c, rtpstats.c): a "packets" array
// of RTPTWCCPacket structures, one per packet a TWCC feedback covered.
void KeepFeedback(Pacing& pacing, const GstStructure* report) {
  const GValue* packets = gst_structure_get_value(report, "packets");
  // A GValueArray (deprecated in GLib, still what rtpsession sends), looked up by name.
  if (packets == nullptr || G_VALUE_TYPE(packets) != g_type_from_name("GValueArray")) return;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  const auto* array = static_cast<const GValueArray*>(g_value_get_boxed(packets));
  if (array == nullptr) return;
  std::vector<double> parsed;
  parsed.reserve(array->n_values * kFeedbackFields);
  for (guint i = 0; i < array->n_values; i++) {
    const GValue* value = &array->values[i];
    if (!GST_VALUE_HOLDS_STRUCTURE(value)) continue;
    const GstStructure* packet = gst_value_get_structure(value);
    guint seqnum = 0, size = 0;
    guint64 sent = GST_CLOCK_TIME_NONE, arrived = GST_CLOCK_TIME_NONE;
    gboolean lost = FALSE;
    if (!gst_structure_get_uint(packet, "seqnum", &seqnum) || !gst_structure_get_uint64(packet, "local-ts", &sent) || !GST_CLOCK_TIME_IS_VALID(sent)) continue;
    gst_structure_get_uint(packet, "size", &size);
    gst_structure_get_uint64(packet, "remote-ts", &arrived);
    gst_structure_get_boolean(packet, "lost", &lost);
    parsed.insert(parsed.end(), {static_cast<double>(seqnum), static_cast<double>(sent) / 1e6,
                                 lost || !GST_CLOCK_TIME_IS_VALID(arrived) ? NAN : static_cast<double>(arrived) / 1e6, static_cast<double>(size)});
  }
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_mutex_lock(&pacing.lock);
  if (pacing.feedback.size() + parsed.size() > kFeedbackPackets * kFeedbackFields) {
    const size_t drop = std::min(pacing.feedback.size(), kFeedbackPackets * kFeedbackFields / 2);
    pacing.feedback.erase(pacing.feedback.begin(), pacing.feedback.begin() + static_cast<std::ptrdiff_t>(drop));
  }
  pacing.feedback.insert(pacing.feedback.end(), parsed.begin(), parsed.end());
  g_mutex_unlock(&pacing.lock);
}

GstPadProbeReturn OnQueueSrc(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  Paced* paced = &PacedOf(data);
  if ((info->type & GST_PAD_PROBE_TYPE_EVENT_UPSTREAM) != 0) {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_UPSTREAM) return GST_PAD_PROBE_OK;
    if (gst_event_has_name(event, "GstForceKeyUnit")) {
      // The receiver asked for a keyframe (PLI/FIR, through rtpsession).
      g_mutex_lock(&paced->pacing->lock);
      SupersedeSent(*paced->pacing);
      g_mutex_unlock(&paced->pacing->lock);
      return GST_PAD_PROBE_OK;
    }
    if (gst_event_has_name(event, "RTPTWCCPackets")) {
      KeepFeedback(*paced->pacing, gst_event_get_structure(event));
      return GST_PAD_PROBE_OK;
    }
    if (!gst_event_has_name(event, "GstRTPRetransmissionRequest")) return GST_PAD_PROBE_OK;
    guint seqnum = 0;
    guint ssrc = 0;
    const GstStructure* request = gst_event_get_structure(event);
    if (!gst_structure_get_uint(request, "seqnum", &seqnum) || !gst_structure_get_uint(request, "ssrc", &ssrc)) return GST_PAD_PROBE_OK;
    switch (AnswerRetransmission(*paced->pacing, ssrc, seqnum)) {
      case Answer::kRetransmit:
        return GST_PAD_PROBE_OK;
      case Answer::kDrop:
        return GST_PAD_PROBE_DROP;
      case Answer::kKeyframe:
        break;
    }
    // Goes on upstream as a receiver's PLI would (rtpsession makes the same event).
    gst_event_unref(event);
    GST_PAD_PROBE_INFO_DATA(info) = gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, NewKeyframeRequest());
    return GST_PAD_PROBE_OK;
  }
  if ((info->type & GST_PAD_PROBE_TYPE_BUFFER) != 0) {
    if (DropIfBacklog(pad, *paced, GST_PAD_PROBE_INFO_BUFFER(info))) return GST_PAD_PROBE_DROP;
    NoteSent(*paced->pacing, GST_PAD_PROBE_INFO_BUFFER(info));
    WaitToSend(pad, *paced, gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info)));
  } else if ((info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) != 0) {
    WaitToSend(pad, *paced, gst_buffer_list_calculate_size(GST_PAD_PROBE_INFO_BUFFER_LIST(info)));
  }
  return GST_PAD_PROBE_OK;
}

// On the queue's sink pad: notes the newest timestamp in; a list (a payloader's
// whole frame) goes in packet by packet, so that the pacer spaces the packets,
// not the frames.
GstPadProbeReturn OnQueueSink(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  if ((info->type & GST_PAD_PROBE_TYPE_BUFFER) != 0) {
    const GstClockTime pts = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
    if (GST_CLOCK_TIME_IS_VALID(pts)) PacedOf(data).newestInPts = pts;
    return GST_PAD_PROBE_OK;
  }
  GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
  GstFlowReturn flow = GST_FLOW_OK;
  const guint length = gst_buffer_list_length(list);
  for (guint i = 0; i < length && flow == GST_FLOW_OK; i++) flow = gst_pad_chain(pad, gst_buffer_ref(gst_buffer_list_get(list, i)));
  gst_buffer_list_unref(list);  // handled: the list is ours
  GST_PAD_PROBE_INFO_DATA(info) = nullptr;
  GST_PAD_PROBE_INFO_FLOW_RETURN(info) = flow;
  return GST_PAD_PROBE_HANDLED;
}

// webrtcbin's request-aux-sender, on the thread applying a description.
GstElement* OnRequestAuxSender(GstElement* webrtcbin, GObject*, gpointer) {
  auto* shared = static_cast<SharedPacing*>(g_object_get_data(G_OBJECT(webrtcbin), kQuark));
  if (shared == nullptr) return nullptr;
  GstElement* queue = gst_element_factory_make("queue", "pacer");
  if (queue == nullptr) return nullptr;
  g_object_set(queue, "max-size-buffers", 0u, "max-size-time", static_cast<guint64>(0), "max-size-bytes", kQueueBytes, "leaky", 2, "silent", TRUE, nullptr);
  auto paced = std::make_shared<Paced>();
  paced->pacing = *shared;
  paced->queue = queue;
  GstPad* src = gst_element_get_static_pad(queue, "src");
  gst_pad_add_probe(
      src, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_UPSTREAM), OnQueueSrc,
      new SharedPaced(paced), FreePaced);
  gst_object_unref(src);
  GstPad* sink = gst_element_get_static_pad(queue, "sink");
  gst_pad_add_probe(sink, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST), OnQueueSink, new SharedPaced(paced), FreePaced);
  gst_object_unref(sink);
  return queue;  // floating; webrtcbin takes it
}

ObjectRef WebRtcBinArg(const Napi::Value& value, const char* what) {
  ObjectRef element = ElementArg(value, what);
  if (g_signal_lookup("request-aux-sender", G_OBJECT_TYPE(element.get())) == 0) throw Napi::TypeError::New(value.Env(), std::string(what) + ": expected a webrtcbin");
  return element;
}

Pacing* PacingOf(GObject* webrtcbin) {
  auto* shared = static_cast<SharedPacing*>(g_object_get_data(webrtcbin, kQuark));
  return shared == nullptr ? nullptr : shared->get();
}

Napi::Value Pace(const Napi::CallbackInfo& info) {
  ObjectRef webrtcbin = WebRtcBinArg(info[0], "pace");
  if (PacingOf(webrtcbin.get()) != nullptr) return info.Env().Undefined();  // once per webrtcbin
  // The webrtcbin owns the settings; each aux sender shares them.
  g_object_set_data_full(webrtcbin.get(), kQuark, new SharedPacing(std::make_shared<Pacing>()), [](gpointer data) { delete static_cast<SharedPacing*>(data); });
  g_signal_connect(webrtcbin.get(), "request-aux-sender", G_CALLBACK(OnRequestAuxSender), nullptr);
  return info.Env().Undefined();
}

double NonNegative(const Napi::Object& settings, const char* name) {
  Napi::Value value = settings.Get(name);
  const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
  if (!std::isfinite(number) || number < 0 || number > 1e12) throw Napi::TypeError::New(settings.Env(), std::string("setPacing: ") + name + " must be a number from 0 to 10^12");
  return number;
}

void SetPacing(const Napi::CallbackInfo& info) {
  ObjectRef webrtcbin = WebRtcBinArg(info[0], "setPacing");
  RequireType(info.Env(), info[1].IsObject(), "setPacing: settings must be an object");
  Pacing* pacing = PacingOf(webrtcbin.get());
  if (pacing == nullptr) throw Napi::TypeError::New(info.Env(), "setPacing: the webrtcbin is not paced (call pace() first)");
  Napi::Object settings = info[1].As<Napi::Object>();
  const double rate = NonNegative(settings, "rate");
  const double maxQueueMs = NonNegative(settings, "maxQueueMs");
  const double retransmitRate = NonNegative(settings, "retransmitRate");
  const double retransmitIntervalMs = NonNegative(settings, "retransmitIntervalMs");
  const double keyframeIntervalMs = NonNegative(settings, "keyframeIntervalMs");
  pacing->rate = rate;
  pacing->maxQueueUs = maxQueueMs * 1000;
  pacing->retransmitRate = retransmitRate;
  pacing->retransmitIntervalUs = static_cast<gint64>(retransmitIntervalMs * 1000);
  pacing->keyframeIntervalUs = static_cast<gint64>(keyframeIntervalMs * 1000);
}

Napi::Value PacingCounts(const Napi::CallbackInfo& info) {
  ObjectRef webrtcbin = WebRtcBinArg(info[0], "pacingCounts");
  Pacing* pacing = PacingOf(webrtcbin.get());
  if (pacing == nullptr) return info.Env().Null();
  Napi::Object counts = Napi::Object::New(info.Env());
  counts.Set("packets", static_cast<double>(pacing->packets.load()));
  counts.Set("bytes", static_cast<double>(pacing->bytes.load()));
  counts.Set("waitedMs", static_cast<double>(pacing->waitedUs.load()) / 1000);
  counts.Set("retransmissionsPassed", static_cast<double>(pacing->retransmissionsPassed.load()));
  counts.Set("retransmissionsDropped", static_cast<double>(pacing->retransmissionsDropped.load()));
  counts.Set("keyframesRequested", static_cast<double>(pacing->keyframesRequested.load()));
  counts.Set("backlogDropped", static_cast<double>(pacing->backlogDropped.load()));
  return counts;
}

void SkipPacerBacklog(const Napi::CallbackInfo& info) {
  ObjectRef webrtcbin = WebRtcBinArg(info[0], "skipPacerBacklog");
  Pacing* pacing = PacingOf(webrtcbin.get());
  if (pacing == nullptr) throw Napi::TypeError::New(info.Env(), "skipPacerBacklog: the webrtcbin is not paced (call pace() first)");
  pacing->skipGeneration++;
}

Napi::Value TakeTransportFeedback(const Napi::CallbackInfo& info) {
  ObjectRef webrtcbin = WebRtcBinArg(info[0], "takeTransportFeedback");
  Pacing* pacing = PacingOf(webrtcbin.get());
  if (pacing == nullptr) return info.Env().Null();
  std::vector<double> taken;
  g_mutex_lock(&pacing->lock);
  taken.swap(pacing->feedback);
  g_mutex_unlock(&pacing->lock);
  Napi::Float64Array array = Napi::Float64Array::New(info.Env(), taken.size());
  std::copy(taken.begin(), taken.end(), array.Data());
  return array;
}

}  // namespace

void InitPacer(Napi::Env env, Napi::Object exports) {
  exports.Set("pace", Napi::Function::New<Pace>(env, "pace"));
  exports.Set("setPacing", Napi::Function::New<SetPacing>(env, "setPacing"));
  exports.Set("pacingCounts", Napi::Function::New<PacingCounts>(env, "pacingCounts"));
  exports.Set("skipPacerBacklog", Napi::Function::New<SkipPacerBacklog>(env, "skipPacerBacklog"));
  exports.Set("takeTransportFeedback", Napi::Function::New<TakeTransportFeedback>(env, "takeTransportFeedback"));
}
