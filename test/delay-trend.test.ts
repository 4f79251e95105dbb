// The congestion controller's per-packet signals (issue 13), on packets whose
// send and arrival times are made up here: a queue that grows, holds or drains
// must read as such, and the rates and loss must be the packets'.
import { describe, expect, it } from 'vitest';

import { DelayTrend } from '../lib/media/congestion/delay-trend.js';
import { PacketFeedbackReader } from '../lib/media/congestion/packet-feedback.js';

/** The over-use detector's starting threshold (overuse-detector.ts), ms. */
const THRESHOLD_MS = 12.5;

/**
 * Packets of `bytes` sent every `spacingMs` into a link that carries
 * `capacity` bit/s after a 20 ms propagation delay, with a queue in front:
 * [sentMs, arrivedMs] per packet.
 */
function throughLink(count: number, spacingMs: number, bytes: number, capacity: number): [number, number][] {
  const serviceMs = (bytes * 8 * 1000) / capacity;
  let linkFreeAt = 0;
  const packets: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const sent = i * spacingMs;
    linkFreeAt = Math.max(linkFreeAt, sent) + serviceMs;
    packets.push([sent, linkFreeAt + 20]);
  }
  return packets;
}

function trendOf(packets: [number, number][]): number | null {
  const trend = new DelayTrend();
  for (const [sent, arrived] of packets) trend.add(sent, arrived);
  return trend.signal;
}

describe('the delay trend', () => {
  it('reads a link with room to spare as flat: well under the threshold', () => {
    // 1 Mbit/s sent (1250 bytes every 10 ms) into 2 Mbit/s.
    const signal = trendOf(throughLink(200, 10, 1250, 2_000_000));
    expect(signal).not.toBeNull();
    expect(Math.abs(signal!)).toBeLessThan(1);
  });

  it('reads 10% more than the link carries as a growing queue, over the threshold', () => {
    const signal = trendOf(throughLink(200, 10, 1250, 900_000));
    expect(signal).toBeGreaterThan(THRESHOLD_MS);
  });

  it('reads a queue that drains as negative', () => {
    // A burst queued first (sent at once), then a rate the link carries easily.
    const packets = throughLink(100, 10, 1250, 2_000_000).map(([sent, arrived], i): [number, number] => [sent, arrived + Math.max(0, 300 - 3 * i)]);
    expect(trendOf(packets)).toBeLessThan(-THRESHOLD_MS);
  });

  it('says nothing before it has seen a few groups of packets', () => {
    expect(trendOf(throughLink(3, 10, 1250, 900_000))).toBeNull();
  });
});

/** The native batch format: seqnum, sentMs, arrivedMs (NaN: lost), bytes per packet. */
function batch(packets: { seq: number; sent: number; arrived: number; bytes: number }[]): Float64Array {
  return Float64Array.from(packets.flatMap((p) => [p.seq, p.sent, p.arrived, p.bytes]));
}

describe('the per-packet feedback reader', () => {
  it('measures the rates and the loss of the last 500 ms, across the 16-bit wrap of the sequence numbers', () => {
    const reader = new PacketFeedbackReader();
    // 1000 bytes every 10 ms (800 kbit/s), every tenth packet lost, numbers wrapping past 65535.
    const packets = Array.from({ length: 120 }, (_, i) => ({ seq: (65500 + i) % 65536, sent: i * 10, arrived: i % 10 === 9 ? Number.NaN : i * 10 + 20, bytes: 1000 }));
    const feedback = reader.read(batch(packets));
    expect(feedback).not.toBeNull();
    expect(feedback!.lossFraction).toBeCloseTo(0.1, 1);
    expect(feedback!.bitrateSent).toBeCloseTo(800_000, -3);
    // 90% of it arrived (the window's edges move it by a packet).
    expect(feedback!.bitrateReceived / feedback!.bitrateSent).toBeGreaterThan(0.85);
    expect(feedback!.bitrateReceived / feedback!.bitrateSent).toBeLessThan(0.95);
    expect(Math.abs(feedback!.delayGradientMs)).toBeLessThan(1);
  });

  it('counts a packet reported lost and received later once, as received', () => {
    const reader = new PacketFeedbackReader();
    const packets = Array.from({ length: 60 }, (_, i) => ({ seq: i, sent: i * 10, arrived: i === 30 ? Number.NaN : i * 10 + 20, bytes: 1000 }));
    expect(reader.read(batch(packets))!.lossFraction).toBeGreaterThan(0);
    const late = reader.read(batch([{ seq: 30, sent: 300, arrived: 340, bytes: 1000 }, ...[60, 61].map((seq) => ({ seq, sent: seq * 10, arrived: seq * 10 + 20, bytes: 1000 }))]));
    expect(late!.lossFraction).toBe(0);
  });

  it('says nothing for a batch that completes no group', () => {
    const reader = new PacketFeedbackReader();
    expect(reader.read(new Float64Array(0))).toBeNull();
    expect(reader.read(batch([{ seq: 1, sent: 0, arrived: 20, bytes: 1000 }]))).toBeNull();
  });
});
