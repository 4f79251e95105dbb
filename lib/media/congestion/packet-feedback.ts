// Per-packet TWCC feedback, as the pacer collects it from rtpsession
// (native/pacer.cc, takeTransportFeedback): the send and arrival time of each
// packet. It gives the congestion controller its signals sooner and finer than
// GStreamer's 300 ms statistics window polled with getStats: the delay trend
// after every group of packets, and rates and loss over a short window.
import { DelayTrend } from './delay-trend.js';
import type { FeedbackSample } from './transport-feedback.js';

/** Fields per packet in the native array: seqnum, sentMs, arrivedMs (NaN: lost), bytes. */
const FIELDS = 4;
/** Rates and loss are measured over the packets sent in this window (ms). */
const RATE_WINDOW_MS = 500;

interface PacketRecord {
  sentMs: number;
  arrivedMs: number;
  bytes: number;
}

/** Reads the packets a pacer collected; keeps the window and the delay trend. */
export class PacketFeedbackReader {
  private readonly trend = new DelayTrend();
  /** Packets in the window, by unwrapped transport-wide sequence number. */
  private readonly window = new Map<number, PacketRecord>();
  private lastSeq: number | null = null;
  private newestSent = -Infinity;

  /**
   * Takes one batch (the native Float64Array); returns what it tells the
   * controller, or null when it completed no group of packets (nothing new
   * about the delay).
   */
  read(batch: Float64Array): NonNullable<FeedbackSample['transportFeedback']> | null {
    const received: PacketRecord[] = [];
    for (let i = 0; i + FIELDS <= batch.length; i += FIELDS) {
      const record = { sentMs: batch[i + 1]!, arrivedMs: batch[i + 2]!, bytes: batch[i + 3]! };
      const seq = this.unwrap(batch[i]!);
      const known = this.window.get(seq);
      // A packet reported lost and then received counts as received, once.
      if (known !== undefined && !Number.isNaN(known.arrivedMs)) continue;
      this.window.set(seq, record);
      this.newestSent = Math.max(this.newestSent, record.sentMs);
      if (!Number.isNaN(record.arrivedMs)) received.push(record);
    }
    for (const [seq, record] of this.window) {
      if (this.newestSent - record.sentMs > RATE_WINDOW_MS) this.window.delete(seq);
    }
    received.sort((a, b) => a.sentMs - b.sentMs);
    let grouped = false;
    for (const record of received) grouped = this.trend.add(record.sentMs, record.arrivedMs) || grouped;
    const signal = this.trend.signal;
    if (!grouped || signal === null) return null;
    return { ...this.rates(), delayGradientMs: signal };
  }

  private rates(): { bitrateSent: number; bitrateReceived: number; lossFraction: number } {
    // Over a span from the first packet to the last, the first packet's bytes were before it.
    const sent = { bytes: 0, first: { at: Infinity, bytes: 0 }, last: -Infinity };
    const received = { bytes: 0, first: { at: Infinity, bytes: 0 }, last: -Infinity };
    const count = (span: typeof sent, at: number, bytes: number) => {
      span.bytes += bytes;
      if (at < span.first.at) span.first = { at, bytes };
      span.last = Math.max(span.last, at);
    };
    let lost = 0;
    for (const record of this.window.values()) {
      count(sent, record.sentMs, record.bytes);
      if (Number.isNaN(record.arrivedMs)) lost++;
      else count(received, record.arrivedMs, record.bytes);
    }
    const perSecond = (span: typeof sent) => (span.last > span.first.at ? ((span.bytes - span.first.bytes) * 8 * 1000) / (span.last - span.first.at) : 0);
    return {
      bitrateSent: perSecond(sent),
      bitrateReceived: perSecond(received),
      lossFraction: this.window.size > 0 ? lost / this.window.size : 0,
    };
  }

  /** Transport-wide sequence numbers are 16-bit: the unwrapped value nearest the last one. */
  private unwrap(seq: number): number {
    if (this.lastSeq === null) {
      this.lastSeq = seq;
      return seq;
    }
    const delta = ((((seq - this.lastSeq) % 65536) + 98304) % 65536) - 32768;
    const unwrapped = this.lastSeq + delta;
    if (delta > 0) this.lastSeq = unwrapped;
    return unwrapped;
  }
}
