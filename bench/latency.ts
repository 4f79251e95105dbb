// Figure 3: glass-to-glass latency in one process. Every video frame is stamped
// where it enters the encoder, and again where the receiver's decoder outputs it
// and where a clock-synchronised sink would show it; RTP timestamps tie the two
// pipelines' records to the same frame.
import { PeerConnector, Pipeline, WebRtcBin } from '../lib/index.js';
import { latencyProbe, type NativeLatencyProbe } from './support/bench-addon.js';
import { nextEvent, until } from '../test/support/wait.js';
import type { Element } from '../lib/index.js';
import type { Figure, FigureOptions, Row } from './support/figure.js';
import { FRAME_RATE } from './support/media.js';
import { percentile, round } from './support/stats.js';

/** One configuration of sender and receiver. */
interface LatencyConfig {
  name: string;
  /** webrtcbin's jitterbuffer latency in ms; undefined keeps GStreamer's default (200). */
  latency: number | undefined;
  /** The VP8 encoder with its settings. */
  encoder: string;
}

const CONFIGS: LatencyConfig[] = [
  { name: 'default', latency: undefined, encoder: 'vp8enc deadline=1' },
  { name: 'tuned', latency: 0, encoder: 'vp8enc deadline=1 lag-in-frames=0' },
];

// The receiver drains what queued up while DTLS was connecting for about a second after the first frame.
const WARM_UP_MS = 2000;

/** Records of one probe, as [clockTime, pts, rtpTime] triples. */
class Records {
  private readonly values: number[] = [];
  constructor(private readonly probe: NativeLatencyProbe) {}
  static on(element: Element | null, pad: string, rtp = false): Records {
    if (element === null) throw new Error(`no element for a ${pad} probe`);
    return new Records(latencyProbe(element.native, pad, { rtp }));
  }
  collect(): void {
    this.values.push(...this.probe.take());
  }
  discard(): void {
    this.probe.take();
    this.values.length = 0;
  }
  /** First value of `value` for each distinct `key` (0 clock, 1 pts, 2 rtp). */
  map(key: 0 | 1 | 2, value: 0 | 1 | 2): Map<number, number> {
    const result = new Map<number, number>();
    for (let i = 0; i < this.values.length; i += 3) {
      if (!result.has(this.values[i + key])) result.set(this.values[i + key], this.values[i + value]);
    }
    return result;
  }
  remove(): void {
    this.probe.remove();
  }
}

interface LatencySamples {
  decodedMs: number[];
  shownMs: number[];
  encodeMs: number[];
  framesDecoded: number;
}

async function measure(config: LatencyConfig, seconds: number): Promise<LatencySamples> {
  const tx = new Pipeline(
    `videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=${FRAME_RATE}/1 ` +
      `! ${config.encoder} name=enc ! rtpvp8pay name=pay pt=96 ! webrtcbin name=tx bundle-policy=max-bundle`,
  );
  const rx = new WebRtcBin(config.latency === undefined ? {} : { latency: config.latency });
  const probes: Records[] = [];
  try {
    const encIn = Records.on(tx.getElement('enc'), 'sink');
    const encOut = Records.on(tx.getElement('enc'), 'src');
    const pay = Records.on(tx.getElement('pay'), 'src', true);
    probes.push(encIn, encOut, pay);
    const receiving = nextEvent(rx, 'track').then(() => {
      const depay = Records.on(rx.pipeline.getElement('depay'), 'sink', true);
      const dec = Records.on(rx.pipeline.getElement('dec'), 'src');
      const show = Records.on(rx.pipeline.getElement('show'), 'src');
      probes.push(depay, dec, show);
      return { depay, dec, show };
    });
    // Links the track; the probes above are added after it, once nextEvent's promise settles.
    rx.on('track', (track) => track.link('rtpvp8depay name=depay ! vp8dec name=dec ! clocksync name=show ! fakesink sync=false async=false'));
    const negotiated = PeerConnector.pair(tx.getWebRtcBin('tx')!, rx);
    await tx.play();
    await negotiated;
    const { depay, dec, show } = await receiving;
    let decoded = 0;
    await until(
      () => {
        dec.collect();
        decoded = dec.map(0, 1).size;
        return decoded > 0;
      },
      'the first frame is decoded',
      20_000,
    );
    await new Promise((resolve) => setTimeout(resolve, WARM_UP_MS));
    for (const probe of probes) probe.discard();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    for (const probe of probes) probe.collect();

    const enteredEncoder = encIn.map(1, 0); // sender pts -> clock
    const leftEncoder = encOut.map(1, 0);
    const senderPts = pay.map(2, 1); // rtp -> sender pts
    const rtpOf = depay.map(1, 2); // receiver pts -> rtp
    const shownAt = show.map(1, 0); // receiver pts -> clock
    const samples: LatencySamples = { decodedMs: [], shownMs: [], encodeMs: [], framesDecoded: 0 };
    for (const [pts, entered] of enteredEncoder) {
      const left = leftEncoder.get(pts);
      if (left !== undefined) samples.encodeMs.push((left - entered) / 1e6);
    }
    for (const [receiverPts, decodedAt] of dec.map(1, 0)) {
      samples.framesDecoded++;
      const entered = enteredEncoder.get(senderPts.get(rtpOf.get(receiverPts) ?? -1) ?? -1);
      if (entered === undefined) continue;
      samples.decodedMs.push((decodedAt - entered) / 1e6);
      const shown = shownAt.get(receiverPts);
      if (shown !== undefined) samples.shownMs.push((shown - entered) / 1e6);
    }
    return samples;
  } finally {
    for (const probe of probes) probe.remove();
    tx.close();
    rx.close();
  }
}

/** Figure 3. */
export async function latency({ quick, log }: FigureOptions): Promise<Figure> {
  const seconds = quick ? 3 : 15;
  const rows: Row[] = [];
  for (const config of CONFIGS) {
    const samples = await measure(config, seconds);
    log(`  ${config.name}: ${samples.shownMs.length} frames matched of ${samples.framesDecoded} decoded`);
    if (samples.shownMs.length === 0) throw new Error(`${config.name}: no frame could be matched from encoder to decoder`);
    rows.push({
      config: config.name,
      latencyMs: config.latency ?? 200,
      encoder: config.encoder,
      frames: samples.shownMs.length,
      shownP50: round(percentile(samples.shownMs, 50), 1),
      shownP95: round(percentile(samples.shownMs, 95), 1),
      decodedP50: round(percentile(samples.decodedMs, 50), 1),
      decodedP95: round(percentile(samples.decodedMs, 95), 1),
      encodeP50: round(percentile(samples.encodeMs, 50), 1),
    });
  }
  const [standard, tuned] = rows;
  return {
    title: 'Glass-to-glass latency in one process',
    method:
      `A live videotestsrc (640x480@${FRAME_RATE}) → VP8 → webrtcbin sends to a receiving WebRtcBin in the same process over loopback ` +
      `ICE/DTLS/SRTP; the receiver runs rtpvp8depay → vp8dec → clocksync → fakesink. Pad probes (native/latency_probe.cc) stamp each buffer ` +
      `with GStreamer's system clock, the monotonic clock both pipelines run on: where the raw frame enters vp8enc, where the payloader ` +
      `outputs its RTP packets, where the receiver's depayloader gets them, where vp8dec outputs the frame, and where clocksync lets it ` +
      `through. RTP timestamps tie the sender's records to the receiver's, so every figure is for the same frame. "Shown" is when ` +
      `clocksync releases the frame: its running time plus the receiving pipeline's latency, which is when a display sink with sync=true ` +
      `would render it; "decoded" is when it leaves the decoder. ${seconds} s per configuration after a ${WARM_UP_MS / 1000} s warm-up ` +
      `following the first decoded frame. One frame interval is ${round(1000 / FRAME_RATE, 1)} ms.`,
    columns: [
      { key: 'config', label: 'Configuration' },
      { key: 'latencyMs', label: 'Jitterbuffer latency (ms)' },
      { key: 'encoder', label: 'Encoder' },
      { key: 'frames', label: 'Frames' },
      { key: 'shownP50', label: 'Shown p50 (ms)' },
      { key: 'shownP95', label: 'Shown p95 (ms)' },
      { key: 'decodedP50', label: 'Decoded p50 (ms)' },
      { key: 'decodedP95', label: 'Decoded p95 (ms)' },
      { key: 'encodeP50', label: 'Encode p50 (ms)' },
    ],
    rows,
    headline: `shown p50/p95: ${standard.shownP50}/${standard.shownP95} ms with the defaults, ${tuned.shownP50}/${tuned.shownP95} ms tuned (latency=${tuned.latencyMs})`,
  };
}
