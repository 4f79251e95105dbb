// What a sender learns about its link from the stats webrtcbin keeps: the
// transport-wide congestion control (TWCC) statistics GStreamer (>= 1.20)
// computes from the receiver's feedback, on the candidate pair as
// `gst-twcc-stats`, and the receiver reports (RFC 3550) as remote-inbound-rtp.
import type { RtcStats, RtcStatsReport } from '../../core/stats.js';

/** One reading of the feedback, with only what is new since the previous reading. */
export interface FeedbackSample {
  /** When it was read (ms, performance.now()). */
  time: number;
  /** From TWCC feedback, when a new report arrived. */
  transportFeedback: {
    /** Bit/s that left the sender over GStreamer's 300 ms window. */
    bitrateSent: number;
    /** Bit/s that the receiver got over the same packets. */
    bitrateReceived: number;
    /** Share of the window's packets the receiver reported lost, 0 to 1. */
    lossFraction: number;
    /** The change of queuing delay across the window, ms (see readFeedback). */
    delayGradientMs: number;
  } | null;
  /** From a receiver report, when a new one arrived. */
  receiverReport: { lossFraction: number } | null;
  /** The latest round-trip time (ms), or null before the first report. */
  roundTripMs: number | null;
  /** Bit/s of RTP sent since the previous reading (outbound-rtp), or null on the first. */
  sendRate: number | null;
}

/** The length of GStreamer's TWCC statistics window (rtptwcc.c). */
const TWCC_WINDOW_S = 0.3;
/** Assumed RTP packet size before the stats tell the real one. */
const DEFAULT_PACKET_BYTES = 1100;

/** Reads successive stats reports of one sender; keeps what it needs to tell new feedback from old. */
export class TransportFeedbackReader {
  private lastTwcc = '';
  private lastReport = '';
  private lastBytes: { bytes: number; packets: number; time: number } | null = null;
  private packetBytes = DEFAULT_PACKET_BYTES;

  /** Extracts a sample from a report read at `time` (ms). */
  read(report: RtcStatsReport, time: number): FeedbackSample {
    const entries = Object.values(report);
    const sample: FeedbackSample = { time, transportFeedback: null, receiverReport: null, roundTripMs: null, sendRate: null };
    // Sent bytes and packets over every video and audio stream of this sender.
    const outbound = entries.filter((stats) => stats.type === 'outbound-rtp');
    const bytes = sum(outbound, 'bytesSent');
    const packets = sum(outbound, 'packetsSent');
    if (this.lastBytes !== null && time > this.lastBytes.time && bytes >= this.lastBytes.bytes) {
      sample.sendRate = ((bytes - this.lastBytes.bytes) * 8 * 1000) / (time - this.lastBytes.time);
      const newPackets = packets - this.lastBytes.packets;
      if (newPackets > 10) this.packetBytes = (bytes - this.lastBytes.bytes) / newPackets;
    }
    this.lastBytes = { bytes, packets, time };

    const twcc = entries.find((stats) => stats.type === 'candidate-pair' && typeof stats.gstTwccStats === 'object' && stats.gstTwccStats !== null)?.gstTwccStats as
      | Record<string, number>
      | undefined;
    if (twcc !== undefined) {
      const key = `${twcc.bitrateSent}/${twcc.bitrateRecv}/${twcc.packetLossPct}/${twcc.avgDeltaOfDelta}`;
      if (key !== this.lastTwcc && twcc.bitrateSent > 0) {
        this.lastTwcc = key;
        // avg-delta-of-delta is the mean, over the window's packets, of (arrival
        // spacing - send spacing): its sum over the window is how much the
        // one-way delay grew across it. The window holds about
        // rate * 0.3 s / packet size packets.
        const packetsInWindow = Math.max(1, (twcc.bitrateSent * TWCC_WINDOW_S) / (8 * this.packetBytes));
        sample.transportFeedback = {
          bitrateSent: twcc.bitrateSent,
          bitrateReceived: twcc.bitrateRecv,
          lossFraction: clamp01((twcc.packetLossPct ?? 0) / 100),
          delayGradientMs: ((twcc.avgDeltaOfDelta ?? 0) / 1e6) * packetsInWindow,
        };
      }
    }

    for (const stats of entries) {
      if (stats.type !== 'remote-inbound-rtp') continue;
      const rtt = stats.roundTripTime;
      if (typeof rtt === 'number' && rtt > 0) sample.roundTripMs = Math.max(sample.roundTripMs ?? 0, rtt * 1000);
      // A new report carries a new extended highest sequence number or a new LSR.
      const source = (stats.gstRtpsourceStats ?? {}) as Record<string, unknown>;
      const key = `${String(stats.id)}:${String(source.rbExthighestseq)}:${String(source.rbLsr)}`;
      if (source.haveRb === true && !this.lastReport.includes(key)) {
        const fraction = typeof stats.fractionLost === 'number' ? stats.fractionLost : 0;
        // GStreamer gives the report's 8-bit fraction (x/256) as a double; W3C's is 0 to 1.
        const lossFraction = clamp01(fraction > 1 ? fraction / 256 : fraction);
        sample.receiverReport = { lossFraction: Math.max(sample.receiverReport?.lossFraction ?? 0, lossFraction) };
      }
    }
    this.lastReport = entries
      .filter((stats) => stats.type === 'remote-inbound-rtp')
      .map((stats) => {
        const source = (stats.gstRtpsourceStats ?? {}) as Record<string, unknown>;
        return `${String(stats.id)}:${String(source.rbExthighestseq)}:${String(source.rbLsr)}`;
      })
      .join('|');
    return sample;
  }
}

function sum(entries: RtcStats[], field: string): number {
  return entries.reduce((total, stats) => total + (typeof stats[field] === 'number' ? (stats[field] as number) : 0), 0);
}

function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}
