// Figure 8 (issue 15): receiving from a browser over a shaped link. Chromium,
// inside the link's namespace, sends its fake camera (640x480, 30 fps) through
// each scenario to (i) a WebRtcBin on the host side that decodes, and (ii) a
// second Chromium on the host side, the reference.
import type { Figure, FigureOptions, Row } from '../support/figure.js';
import { LinkBrowser } from '../../test/support/shaped-link-peers.js';
import { createShapedLink } from '../../test/support/shaped-link.js';
import { FREEZE_MS } from './playback.js';
import { scenarios } from './scenarios.js';
import { browserReceiver, browserSender, measureStream, type StreamResult, webRtcBinReceiver } from './session.js';
import { ratio, round } from './table.js';

export async function networkReceiving(options: FigureOptions): Promise<Figure> {
  const link = await createShapedLink({ seed: 15 });
  const remote = await LinkBrowser.launch(link).catch(async (error) => {
    await link.close();
    throw error;
  });
  let host: LinkBrowser | undefined;
  const rows: Row[] = [];
  try {
    // A quick run (the test suite's) only shows the figure works: no reference browser, one short scenario.
    if (!options.quick) host = await LinkBrowser.launch();
    for (const scenario of scenarios(options.quick)) {
      const results: Partial<Record<'ours' | 'chromium', StreamResult | string>> = {};
      for (const receiverKind of options.quick ? (['ours'] as const) : (['ours', 'chromium'] as const)) {
        try {
          const sender = browserSender(await remote.newPeer());
          const receiver = receiverKind === 'ours' ? webRtcBinReceiver() : await browserReceiver(await host!.newPeer());
          results[receiverKind] = await measureStream(link, scenario, sender, receiver);
        } catch (error) {
          results[receiverKind] = (error as Error).message;
          options.log(`  ${scenario.name}, ${receiverKind}: failed: ${(error as Error).message}`);
        }
      }
      const ours = typeof results.ours === 'object' ? results.ours : undefined;
      const chromium = typeof results.chromium === 'object' ? results.chromium : undefined;
      const row: Row = {
        scenario: scenario.name,
        fps: round(ours?.fps, 1),
        chromiumFps: round(chromium?.fps, 1),
        fpsRatio: ratio(ours?.fps, chromium?.fps),
        freezes: ours?.freezes ?? null,
        chromiumFreezes: chromium?.freezes ?? null,
        frozenS: round(ours === undefined ? undefined : ours.frozenMs / 1000, 2),
        chromiumFrozenS: round(chromium === undefined ? undefined : chromium.frozenMs / 1000, 2),
        lost: ours?.packetsLost ?? null,
        chromiumLost: chromium?.packetsLost ?? null,
        kbps: round(ours === undefined ? undefined : ours.bitrate / 1000, 0),
        chromiumKbps: round(chromium === undefined ? undefined : chromium.bitrate / 1000, 0),
        pollGapMs: ours?.longestPollGapMs ?? null,
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
    title: 'Receiving from Chromium over shaped links: WebRtcBin vs Chromium',
    method:
      'Two sides joined by tun devices and a userspace relay (seeded random loss, added delay), each tun capped by tc tbf (100 ms queue); ' +
      'Chromium in a network namespace sends its fake camera (640x480, 30 fps) to a decoding WebRtcBin (default options) and, as the reference, ' +
      `to a second Chromium, one after the other per scenario. Measured at the receiver from its first decoded frame: fps, freezes (gaps over ${FREEZE_MS} ms, ` +
      'the stretch before the first and after the last frame included), frozen time, RTP packets lost (inbound-rtp packetsLost) and kbit/s delivered. ' +
      'Ratios are WebRtcBin / Chromium. The WebRtcBin\'s decoded frames are counted by polling its sink every 10 ms on the JS thread: ' +
      'the longest gap between two polls is reported, and a freeze no longer than it may be the JS thread\'s, not the stream\'s.',
    columns: [
      { key: 'scenario', label: 'Scenario' },
      { key: 'fps', label: 'fps (WebRtcBin)' },
      { key: 'chromiumFps', label: 'fps (Chromium)' },
      { key: 'fpsRatio', label: 'fps ratio' },
      { key: 'freezes', label: 'Freezes (WebRtcBin)' },
      { key: 'chromiumFreezes', label: 'Freezes (Chromium)' },
      { key: 'frozenS', label: 'Frozen s (WebRtcBin)' },
      { key: 'chromiumFrozenS', label: 'Frozen s (Chromium)' },
      { key: 'lost', label: 'Lost (WebRtcBin)' },
      { key: 'chromiumLost', label: 'Lost (Chromium)' },
      { key: 'kbps', label: 'kbit/s (WebRtcBin)' },
      { key: 'chromiumKbps', label: 'kbit/s (Chromium)' },
      { key: 'pollGapMs', label: 'Longest poll gap, ms (WebRtcBin)' },
      { key: 'failed', label: 'Not measured' },
    ],
    rows,
    headline:
      worst === null
        ? `WebRtcBin receiving at ${rows.map((row) => `${row.fps ?? '–'} fps, ${row.freezes ?? '–'} freezes (${row.scenario})`).join('; ')}; no Chromium reference in this run`
        : `WebRtcBin receiving at ${worst}× Chromium's fps in the worst of ${measured.length} scenario(s); frozen ${frozen('frozenS')} s vs ${frozen('chromiumFrozenS')} s in all`,
  };
}
