// Figure 9 (issue 13): sending to a browser over a shaped link. A WebRtcBin on
// the host side sends VP8 (640x480, 30 fps; sender.ts: adaptive, with the
// congestion controller and its pacer, when the library has them) through each
// scenario to Chromium inside the link's namespace; the reference is a second
// Chromium on the host side sending its fake camera to the same receiver.
import type { Figure, FigureOptions, Row } from '../support/figure.js';
import { LinkBrowser } from '../../test/support/shaped-link-peers.js';
import { createShapedLink } from '../../test/support/shaped-link.js';
import { FREEZE_MS, SMOOTH_MS } from './playback.js';
import { scenarios } from './scenarios.js';
import { createNetworkSender, ENCODED, ENCODER, type NetworkSenderOptions } from './sender.js';
import { browserReceiver, browserSender, measureStream, type StreamResult, webRtcBinSender } from './session.js';
import { ratio, round } from './table.js';

export interface NetworkSendingOptions extends FigureOptions {
  /** How the WebRtcBin encodes (start bitrate, bounds, adaptive or not). */
  sender?: NetworkSenderOptions;
}

export async function networkSending(options: NetworkSendingOptions): Promise<Figure> {
  const link = await createShapedLink({ seed: 13 });
  const remote = await LinkBrowser.launch(link).catch(async (error) => {
    await link.close();
    throw error;
  });
  let host: LinkBrowser | undefined;
  const rows: Row[] = [];
  let mode = 'fixed';
  try {
    // A quick run (the test suite's) only shows the figure works: no reference browser, one short scenario.
    if (!options.quick) host = await LinkBrowser.launch();
    for (const scenario of scenarios(options.quick)) {
      const results: Partial<Record<'ours' | 'chromium', StreamResult | string>> = {};
      for (const senderKind of options.quick ? (['ours'] as const) : (['ours', 'chromium'] as const)) {
        try {
          const receiver = await browserReceiver(await remote.newPeer());
          let sender;
          if (senderKind === 'ours') {
            const network = createNetworkSender(options.sender);
            mode = network.mode;
            sender = webRtcBinSender(network.webrtcbin, { encoder: ENCODER, encoded: ENCODED }, () => network.close());
          } else {
            sender = browserSender(await host!.newPeer());
          }
          results[senderKind] = await measureStream(link, scenario, sender, receiver);
        } catch (error) {
          results[senderKind] = (error as Error).message;
          options.log(`  ${scenario.name}, ${senderKind}: failed: ${(error as Error).message}`);
        }
      }
      const ours = typeof results.ours === 'object' ? results.ours : undefined;
      const chromium = typeof results.chromium === 'object' ? results.chromium : undefined;
      const row: Row = {
        scenario: scenario.name,
        sender: mode,
        encodedFps: round(ours?.encodedFps, 1),
        chromiumEncodedFps: round(chromium?.encodedFps, 1),
        fps: round(ours?.fps, 1),
        chromiumFps: round(chromium?.fps, 1),
        fpsRatio: ratio(ours?.fps, chromium?.fps),
        freezes: ours?.freezes ?? null,
        chromiumFreezes: chromium?.freezes ?? null,
        frozenS: round(ours === undefined ? undefined : ours.frozenMs / 1000, 2),
        chromiumFrozenS: round(chromium === undefined ? undefined : chromium.frozenMs / 1000, 2),
        kbps: round(ours === undefined ? undefined : ours.bitrate / 1000, 0),
        chromiumKbps: round(chromium === undefined ? undefined : chromium.bitrate / 1000, 0),
        targetKbps: round(ours === undefined ? undefined : ours.targetBitrate / 1000, 0),
        chromiumTargetKbps: round(chromium === undefined ? undefined : chromium.targetBitrate / 1000, 0),
        adaptMs: round(ours?.adaptMs, 0),
        chromiumAdaptMs: round(chromium?.adaptMs, 0),
        recoverMs: round(ours?.recoverMs, 0),
        chromiumRecoverMs: round(chromium?.recoverMs, 0),
        failed: [results.ours, results.chromium].filter((result) => typeof result === 'string').join('; ') || null,
      };
      options.log(`  ${scenario.name}: ${JSON.stringify(row)}`);
      rows.push(row);
    }
  } finally {
    await host?.close();
    await remote.close();
    await link.close();
  }
  const measured = rows.filter((row) => typeof row.fpsRatio === 'number');
  const worst = measured.length === 0 ? null : Math.min(...measured.map((row) => row.fpsRatio as number));
  const frozen = (key: string) => round(rows.reduce((total, row) => total + ((row[key] as number | null) ?? 0), 0), 1);
  return {
    title: 'Sending to Chromium over shaped links: WebRtcBin vs Chromium',
    method:
      'The shaped link of figure 8. A WebRtcBin on the host side sends VP8 (videotestsrc smpte moving, 640x480, 30 fps, vp8enc cbr; ' +
      '"adaptive" when the library exports the congestion controller, which bench/network/sender.ts then attaches with its pacer and VP8_ADAPTIVE_SETTINGS, starting at the controller\'s default 1 Mbit/s; ' +
      '"fixed" at 2.5 Mbit/s otherwise) to Chromium in the namespace; the reference is a host-side Chromium sending ' +
      `its fake camera (640x480, 30 fps). Measured at the receiving Chromium (MediaStreamTrackProcessor stamps each decoded frame) from its first frame: fps, freezes (gaps over ${FREEZE_MS} ms), ` +
      `frozen time, kbit/s delivered (inbound-rtp bytesReceived); after the cap drop, ms until ${SMOOTH_MS / 1000} s of playback without a freeze began (– when never). ` +
      'Target kbit/s is the encoder\'s target when the measurement ended (vp8enc target-bitrate; Chromium\'s outbound-rtp targetBitrate). ' +
      'Encoded fps is counted at the sender (a sink after the encoder; Chromium\'s framesEncoded): below 30 the encoder was starved of CPU or dropped frames. ' +
      'After the cap lifts, ms until the delivered rate reached 80% of its level before the drop (– when never).',
    columns: [
      { key: 'scenario', label: 'Scenario' },
      { key: 'sender', label: 'WebRtcBin bitrate' },
      { key: 'encodedFps', label: 'Encoded fps (WebRtcBin)' },
      { key: 'chromiumEncodedFps', label: 'Encoded fps (Chromium)' },
      { key: 'fps', label: 'fps (WebRtcBin)' },
      { key: 'chromiumFps', label: 'fps (Chromium)' },
      { key: 'fpsRatio', label: 'fps ratio' },
      { key: 'freezes', label: 'Freezes (WebRtcBin)' },
      { key: 'chromiumFreezes', label: 'Freezes (Chromium)' },
      { key: 'frozenS', label: 'Frozen s (WebRtcBin)' },
      { key: 'chromiumFrozenS', label: 'Frozen s (Chromium)' },
      { key: 'kbps', label: 'kbit/s (WebRtcBin)' },
      { key: 'chromiumKbps', label: 'kbit/s (Chromium)' },
      { key: 'targetKbps', label: 'Target kbit/s at the end (WebRtcBin)' },
      { key: 'chromiumTargetKbps', label: 'Target kbit/s at the end (Chromium)' },
      { key: 'adaptMs', label: 'Smooth after drop, ms (WebRtcBin)' },
      { key: 'chromiumAdaptMs', label: 'Smooth after drop, ms (Chromium)' },
      { key: 'recoverMs', label: 'Rate back after lift, ms (WebRtcBin)' },
      { key: 'chromiumRecoverMs', label: 'Rate back after lift, ms (Chromium)' },
      { key: 'failed', label: 'Not measured' },
    ],
    rows,
    headline:
      worst === null
        ? `WebRtcBin sending at ${rows.map((row) => `${row.fps ?? '–'} fps, ${row.freezes ?? '–'} freezes (${row.scenario})`).join('; ')}; no Chromium reference in this run`
        : `WebRtcBin (${mode} bitrate) delivering ${worst}× Chromium's fps in the worst of ${measured.length} scenario(s); frozen ${frozen('frozenS')} s vs ${frozen('chromiumFrozenS')} s in all`,
  };
}
