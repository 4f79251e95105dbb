// Figure 2: how long a connection takes to come up, from webrtcbin's
// `negotiationneeded` to both peers connected and to the first decoded frame.
import { PeerConnector, Pipeline, WebRtcBin } from '../lib/index.js';
import { latencyProbe, type NativeLatencyProbe } from './support/bench-addon.js';
import { until } from '../test/support/wait.js';
import type { Figure, FigureOptions, Row } from './support/figure.js';
import { LOOPBACK_AUDIO_BRANCH, LOOPBACK_LATENCY, LOOPBACK_SENDER, LOOPBACK_VIDEO_BRANCH } from './support/media.js';
import { monotonicNs } from './support/process-usage.js';
import { percentile, round } from './support/stats.js';

/** Milliseconds from `negotiationneeded` to each milestone of one connection. */
interface Connection {
  negotiatedMs: number;
  connectedMs: number;
  firstFrameMs: number;
}

const TIMEOUT_MS = 20_000;

/** One connection, from a fresh sender pipeline and receiver to its first decoded frame; closes both. */
export async function connectOnce(): Promise<Connection> {
  const tx = new Pipeline(LOOPBACK_SENDER);
  const rx = new WebRtcBin({ latency: LOOPBACK_LATENCY });
  try {
    const sender = tx.getWebRtcBin('tx')!;
    let start = NaN;
    const connectedAt: number[] = [];
    let firstFrame: NativeLatencyProbe | undefined;
    // Registered before PeerConnector's own listener, so this is the moment JS learns of it.
    sender.once('negotiationneeded', () => (start = monotonicNs()));
    for (const peer of [sender, rx]) {
      peer.on('connectionstatechange', (state) => {
        if (state === 'connected') connectedAt.push(monotonicNs());
      });
    }
    rx.on('track', (track) => {
      if (track.kind !== 'video') return void track.link(LOOPBACK_AUDIO_BRANCH);
      track.link(LOOPBACK_VIDEO_BRANCH);
      firstFrame = latencyProbe(rx.pipeline.getElement('dec')!.native, 'src', { limit: 1 });
    });
    const negotiated = PeerConnector.pair(sender, rx).then(() => monotonicNs());
    await tx.play();
    const negotiatedAt = await negotiated;
    await until(() => connectedAt.length === 2, 'both peers are connected', TIMEOUT_MS, 2);
    let frameAt = NaN;
    await until(
      () => {
        const record = firstFrame?.take();
        if (record !== undefined && record.length > 0) frameAt = record[0];
        return !Number.isNaN(frameAt);
      },
      'the first frame is decoded',
      TIMEOUT_MS,
      5,
    );
    const ms = (at: number) => (at - start) / 1e6;
    return { negotiatedMs: ms(negotiatedAt), connectedMs: ms(Math.max(...connectedAt)), firstFrameMs: ms(frameAt) };
  } finally {
    tx.close();
    rx.close();
  }
}

/** Figure 2. */
export async function connectTime({ quick, log }: FigureOptions): Promise<Figure> {
  const count = quick ? 5 : 50;
  const cold = await connectOnce();
  log(`  cold connection: ${JSON.stringify(cold)}`);
  const samples: Connection[] = [];
  for (let i = 0; i < count; i++) {
    samples.push(await connectOnce());
    if ((i + 1) % 10 === 0 || i + 1 === count) log(`  ${i + 1}/${count} connections`);
  }
  const row = (measure: string, field: keyof Connection): Row => {
    const values = samples.map((sample) => sample[field]);
    return {
      measure,
      p50: round(percentile(values, 50), 1),
      p95: round(percentile(values, 95), 1),
      min: round(Math.min(...values), 1),
      max: round(Math.max(...values), 1),
      cold: round(cold[field], 1),
    };
  };
  const rows = [row('Offer/answer done', 'negotiatedMs'), row('Both peers connected', 'connectedMs'), row('First decoded frame', 'firstFrameMs')];
  return {
    title: 'Time to connected and to first decoded frame',
    method:
      `${count} connections one after another in one Node.js process, each with a fresh sender pipeline (figure 1's VP8 640x480@30 ` +
      `plus Opus) and a fresh receiving WebRtcBin (latency ${LOOPBACK_LATENCY} ms), paired by PeerConnector over direct in-process ` +
      `signalling with trickle ICE, then closed. Times start when JS receives the sender's \`negotiationneeded\` and end when JS has ` +
      `PeerConnector's \`negotiated\` (offer and answer applied on both sides), when both peers have reported \`connected\`, and when ` +
      `vp8dec outputs its first frame (a pad probe stamps it on the streaming thread with the same monotonic clock). Percentiles ` +
      `interpolate between ranks. "Cold" is one extra connection made first and left out of the statistics: the first in the ` +
      `process, which also loads the plugins.`,
    columns: [
      { key: 'measure', label: 'From negotiationneeded to' },
      { key: 'p50', label: 'p50 (ms)' },
      { key: 'p95', label: 'p95 (ms)' },
      { key: 'min', label: 'min (ms)' },
      { key: 'max', label: 'max (ms)' },
      { key: 'cold', label: 'cold (ms)' },
    ],
    rows,
    samples,
    headline: `connected p50 ${rows[1].p50} ms / p95 ${rows[1].p95} ms; first frame p50 ${rows[2].p50} ms / p95 ${rows[2].p95} ms (${count} connections)`,
  };
}
