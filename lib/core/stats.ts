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

/** Converts the reply of webrtcbin's get-stats. */
export function toStatsReport(reply: Record<string, unknown> | null | undefined): RtcStatsReport {
  const report: RtcStatsReport = {};
  for (const [key, entry] of Object.entries(reply ?? {})) {
    if (typeof entry !== 'object' || entry === null) continue;
    const stats = convert(entry) as RtcStats;
    stats.id ??= key;
    report[stats.id] = stats;
  }
  return report;
}
