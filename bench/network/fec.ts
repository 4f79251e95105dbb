// Figure 10 (issue 13): what ULPFEC in RED buys over a lossy link. A WebRtcBin
// inside the shaped link's namespace sends VP8 (640x480, 30 fps, 1 Mbit/s CBR)
// to a WebRtcBin on this side that decodes, and to headless Chromium on this
// side; per loss scenario, the same stream with FEC off and on, with NACK/RTX
// (the default) and, for the WebRtcBin, without. FEC off with NACK on is the
// reference the other rows of its scenario and receiver are compared with.
import type { Figure, FigureOptions, Row } from '../support/figure.js';
import type { FecOptions, SessionPayload, WebRtcBin } from '../../lib/index.js';
import { LinkBrowser, NamespacePeer } from '../../test/support/shaped-link-peers.js';
import { createShapedLink, type ShapedLink } from '../../test/support/shaped-link.js';
import { FREEZE_MS } from './playback.js';
import type { Scenario } from './scenarios.js';
import { browserReceiver, type MeasuredSender, measureStream, type StreamResult, webRtcBinReceiver } from './session.js';
import { ratio, round } from './table.js';

/** The camera: a moving test card, a few packets a frame; a keyframe every 5 s; a sink beside the payloader counts frames encoded. */
const SOURCE =
  'videotestsrc is-live=true pattern=smpte horizontal-speed=3 ! video/x-raw,width=640,height=480,framerate=30/1 ' +
  '! vp8enc deadline=1 cpu-used=8 end-usage=cbr target-bitrate=1000000 keyframe-max-dist=150 ! tee name=split ! queue ! rtpvp8pay pt=96 ' +
  'split. ! queue ! fakesink name=sent sync=false async=false';

interface Variant {
  name: string;
  /** Who receives: a WebRtcBin (GStreamer's rtpulpfecdec), or Chromium (libwebrtc's FEC receiver; NACK always on). */
  receiver: 'WebRtcBin' | 'Chromium';
  nack: boolean;
  fec: FecOptions | null;
}

const FEC_20: FecOptions = { type: 'ulpfec-red', percentage: 20 };
const FEC_50: FecOptions = { type: 'ulpfec-red', percentage: 50 };

/** The first of each receiver is its reference (FEC off, NACK on: the default). */
const VARIANTS: Variant[] = [
  { name: 'NACK', receiver: 'WebRtcBin', nack: true, fec: null },
  { name: 'NACK + FEC 20%', receiver: 'WebRtcBin', nack: true, fec: FEC_20 },
  { name: 'NACK + FEC 50%', receiver: 'WebRtcBin', nack: true, fec: FEC_50 },
  { name: 'no NACK', receiver: 'WebRtcBin', nack: false, fec: null },
  { name: 'FEC 50%, no NACK', receiver: 'WebRtcBin', nack: false, fec: FEC_50 },
  { name: 'NACK', receiver: 'Chromium', nack: true, fec: null },
  { name: 'NACK + FEC 20%', receiver: 'Chromium', nack: true, fec: FEC_20 },
  { name: 'NACK + FEC 50%', receiver: 'Chromium', nack: true, fec: FEC_50 },
];

function lossScenarios(quick: boolean): Scenario[] {
  const durationMs = quick ? 3000 : 5000;
  if (quick) return [{ name: '5% loss', link: { loss: 0.05 }, changes: [], durationMs }];
  return [
    { name: '2% loss', link: { loss: 0.02 }, changes: [], durationMs },
    { name: '5% loss', link: { loss: 0.05 }, changes: [], durationMs },
    { name: '40 ms RTT + 5% loss', link: { loss: 0.05, rttMs: 40 }, changes: [], durationMs },
  ];
}

/** The WebRtcBin in the namespace, as a measured sender (it offers when started). */
function namespaceSender(link: ShapedLink, fec: FecOptions | null): MeasuredSender {
  const peer = NamespacePeer.start(link);
  const sender: MeasuredSender = {
    onSignal: () => undefined,
    handle: (message: SessionPayload) => peer.handle(message),
    async start() {
      peer.onSignal = (message) => sender.onSignal(message);
      await peer.send(SOURCE, { fec });
    },
    framesEncoded: () => peer.rendered('sent'),
    targetBitrate: async () => 1_000_000,
    close: () => peer.close(),
  };
  return sender;
}

/** NACK off at the receiver: its transceivers ask for no retransmission (set once the answer is applied, as the library sets it on). */
function withoutNack(webrtcbin: WebRtcBin): void {
  webrtcbin.on('signalingstatechange', (state) => {
    if (state === 'stable') for (const transceiver of webrtcbin.getTransceivers()) transceiver.native.set('do-nack', false);
  });
}

export async function networkFec(options: FigureOptions): Promise<Figure> {
  const link = await createShapedLink({ seed: 13 });
  const rows: Row[] = [];
  let browser: LinkBrowser | undefined;
  try {
    if (!options.quick) browser = await LinkBrowser.launch();
    for (const scenario of lossScenarios(options.quick)) {
      const references: Partial<Record<Variant['receiver'], StreamResult>> = {};
      const variants = options.quick ? VARIANTS.slice(0, 2) : VARIANTS;
      for (const variant of variants) {
        let result: StreamResult | string;
        try {
          const receiver =
            variant.receiver === 'Chromium'
              ? await browserReceiver(await browser!.newPeer())
              : webRtcBinReceiver({
                  options: { fec: variant.fec },
                  // A frame counts only when every frame it refers to arrived: a loss not repaired costs frames until a keyframe.
                  depayloader: 'wait-for-keyframe=true',
                  prepare: variant.nack ? undefined : withoutNack,
                });
          result = await measureStream(link, scenario, namespaceSender(link, variant.fec), receiver);
        } catch (error) {
          result = (error as Error).message;
          options.log(`  ${scenario.name}, ${variant.receiver}, ${variant.name}: failed: ${result}`);
        }
        const ours = typeof result === 'object' ? result : undefined;
        if (variant.nack && variant.fec === null) references[variant.receiver] = ours;
        const reference = references[variant.receiver];
        const share = ours === undefined || ours.encodedFps === 0 ? undefined : ours.fps / ours.encodedFps;
        const referenceShare = reference === undefined || reference.encodedFps === 0 ? undefined : reference.fps / reference.encodedFps;
        const row: Row = {
          scenario: scenario.name,
          receiver: variant.receiver,
          variant: variant.name,
          fps: round(ours?.fps, 1),
          encodedFps: round(ours?.encodedFps, 1),
          share: round(share, 2),
          shareRatio: ratio(share, referenceShare),
          freezes: ours?.freezes ?? null,
          frozenS: round(ours === undefined ? undefined : ours.frozenMs / 1000, 2),
          lost: ours?.packetsLost ?? null,
          kbps: round(ours === undefined ? undefined : ours.bitrate / 1000, 0),
          kbpsRatio: ratio(ours?.bitrate, reference?.bitrate),
          pollGapMs: ours?.longestPollGapMs ?? null,
          failed: typeof result === 'string' ? result : null,
        };
        options.log(`  ${scenario.name}, ${variant.receiver}, ${variant.name}: ${JSON.stringify(row)}`);
        rows.push(row);
      }
    }
  } finally {
    await browser?.close();
    await link.close();
  }
  const summary = (variant: Variant) => {
    const picked = rows.filter((row) => row.receiver === variant.receiver && row.variant === variant.name && typeof row.shareRatio === 'number');
    const label = `${variant.receiver} ${variant.name}`;
    if (picked.length === 0) return null;
    const mean = (key: string) => round(picked.reduce((total, row) => total + (row[key] as number), 0) / picked.length, 2);
    const freezes = picked.reduce((total, row) => total + ((row.freezes as number | null) ?? 0), 0);
    return `${label}: ${mean('shareRatio')}× frames, ${mean('kbpsRatio')}× bitrate, ${freezes} freezes`;
  };
  return {
    title: 'Loss recovery over shaped links: FEC (ULPFEC in RED) off and on, with and without NACK',
    method:
      'Two sides joined by tun devices and a userspace relay (seeded random loss, added delay, no rate cap); a WebRtcBin in a network namespace sends VP8 ' +
      '(640x480, 30 fps, 1 Mbit/s CBR, a keyframe every 5 s) to a decoding WebRtcBin (rtpvp8depay wait-for-keyframe=true: a frame counts only when every frame it refers to arrived) ' +
      'or to headless Chromium on this side (it answers the offer; NACK always on), once per variant and scenario, one after the other. ' +
      'FEC is the `fec` option on the sender (and on a receiving WebRtcBin, which then accepts it); NACK off is do-nack off on the receiving WebRtcBin after negotiation. ' +
      'Decoded / encoded is fps decoded over fps the sender encoded in the same window (this loaded machine makes a live source burst, so fps alone can pass 30). ' +
      `Measured at the receiver from its first decoded frame: fps, freezes (gaps over ${FREEZE_MS} ms), frozen time, RTP packets lost (inbound-rtp packetsLost) and kbit/s delivered ` +
      '(FEC packets included). Ratios are against the same scenario\'s and receiver\'s "NACK" row (FEC off, the default), measured in the same run. Frames are counted by polling the sink every 10 ms; the longest poll gap is reported.',
    columns: [
      { key: 'scenario', label: 'Scenario' },
      { key: 'receiver', label: 'Receiver' },
      { key: 'variant', label: 'Recovery' },
      { key: 'fps', label: 'fps decoded' },
      { key: 'encodedFps', label: 'fps encoded' },
      { key: 'share', label: 'Decoded / encoded' },
      { key: 'shareRatio', label: 'Decoded / encoded, ratio' },
      { key: 'freezes', label: 'Freezes' },
      { key: 'frozenS', label: 'Frozen s' },
      { key: 'lost', label: 'Lost' },
      { key: 'kbps', label: 'kbit/s' },
      { key: 'kbpsRatio', label: 'kbit/s ratio' },
      { key: 'pollGapMs', label: 'Longest poll gap, ms' },
      { key: 'failed', label: 'Not measured' },
    ],
    rows,
    headline: `Against the same receiver with NACK alone (mean over scenarios): ${VARIANTS.filter((variant) => variant.fec !== null || !variant.nack).map(summary).filter((line) => line !== null).join('; ')}`,
  };
}
