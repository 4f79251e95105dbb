// The benchmarks' own addon (native/latency_probe.cc): a pad probe, and a
// sampler of the JS thread's CPU time and context switches. It is not part of
// the package's addon: binding.gyp builds it as an addon of its own,
// build/Release/gst_webrtc_node_bench.node, which takes the package's element
// handles.
import { join } from 'node:path';

import type { NativeObject, ThreadUsageSampler } from '../../lib/core/native.js';

export interface LatencyProbeOptions {
  /** Remove the probe after this many buffers; 0 (default) records until remove(). */
  limit?: number;
  /** Also record each buffer's RTP timestamp (the pad carries RTP packets). */
  rtp?: boolean;
}

/** A pad probe that records, per buffer: system clock time (ns, CLOCK_MONOTONIC), PTS (ns) and RTP timestamp; -1 where absent. */
export interface NativeLatencyProbe {
  /** The records since the last take(), three numbers per buffer. */
  take(): Float64Array;
  /** Removes the probe. Idempotent. */
  remove(): void;
}

interface BenchAddon {
  LatencyProbe: new (element: NativeObject, padName: string, options?: LatencyProbeOptions) => NativeLatencyProbe;
  threadUsage(out: Float64Array): void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const addon = require(join(__dirname, '../../build/Release/gst_webrtc_node_bench.node')) as BenchAddon;

/** A probe on `padName` of `element` (an Element's native handle). */
export function latencyProbe(element: NativeObject, padName: string, options?: LatencyProbeOptions): NativeLatencyProbe {
  return new addon.LatencyProbe(element, padName, options);
}

/** Writes the calling thread's [CPU ns, voluntary context switches, involuntary context switches]. */
export const threadUsage: ThreadUsageSampler = (out) => addon.threadUsage(out);
