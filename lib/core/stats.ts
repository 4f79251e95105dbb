// webrtcbin's get-stats reply -> W3C-shaped stats (camelCase names, W3C type names).

/** One RTCStats entry: `id`, `type` (W3C name such as `inbound-rtp`), `timestamp` and the type's fields. */
export interface RtcStats {
  id: string;
  type: string;
  timestamp: number;
  [field: string]: unknown;
}

/** A stats report: stats objects keyed by id, like RTCStatsReport's entries. */
export type RtcStatsReport = Record<string, RtcStats>;

const camelCase = (name: string): string => name.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());

function convert(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(convert);
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value) || value instanceof Error) return value;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [camelCase(key), convert(field)]));
}

type Counters = Record<string, unknown>;

/**
 * The receiving counters with their W3C names and meaning (docs/receiving.md):
 * webrtcbin 1.22 takes an inbound-rtp's `packetsLost` from a jitterbuffer it
 * often does not find (then 0 however many were lost); the RTP source's count
 * (RFC 3550's cumulative number lost, which W3C names) is used instead.
 * `nackCount`, `pliCount` and `firCount` (what this side sent) come from the
 * source too when webrtcbin left them out.
 */
function receivingCounters(stats: RtcStats): void {
  if (stats.type !== 'inbound-rtp') return;
  const source = stats.gstRtpsourceStats as Counters | undefined;
  if (typeof source !== 'object' || source === null) return;
  if (typeof source.packetsLost === 'number') stats.packetsLost = source.packetsLost;
  for (const [w3c, gst] of [['nackCount', 'sentNackCount'], ['pliCount', 'sentPliCount'], ['firCount', 'sentFirCount']]) {
    if (stats[w3c] === undefined && typeof source[gst] === 'number') stats[w3c] = source[gst];
  }
}

/** Converts the reply of webrtcbin's get-stats. */
export function toStatsReport(reply: Record<string, unknown> | null | undefined): RtcStatsReport {
  const report: RtcStatsReport = {};
  for (const [key, entry] of Object.entries(reply ?? {})) {
    if (typeof entry !== 'object' || entry === null) continue;
    const stats = convert(entry) as RtcStats;
    stats.id ??= key;
    receivingCounters(stats);
    report[stats.id] = stats;
  }
  return report;
}
