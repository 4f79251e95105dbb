// Figure 4: one source, N viewers (lib/media/fan-out.ts MediaFanOut): CPU,
// memory and threads per viewer of the sending process alone (the viewers run in
// another process), and whether every viewer still receives every frame.
import type { Figure, FigureOptions, Row } from './support/figure.js';
import { sleep } from './support/fan-out-session.js';
import { FAN_OUT_BITRATE, FAN_OUT_SOURCE, RemoteFanOut } from './support/remote-fan-out.js';
import { FRAME_RATE } from './support/media.js';
import { cpuPercent, usage, type Usage } from './support/process-usage.js';
import { median, round } from './support/stats.js';

/** A viewer "receives at full frame rate" when it receives at least this share of the source's frame rate. */
const FULL_RATE_SHARE = 0.95;
/** Viewers negotiating at once while a step adds its viewers. */
const JOIN_CONCURRENCY = 10;
const SETTLE_MS = 2000;

interface Window {
  start: Usage;
  end: Usage;
  /** RSS after a forced garbage collection (run.ts starts figures with --expose-gc), so JS heap churn does not blur it. */
  rssBytes: number;
  viewerFps: number[];
  sourceFps: number;
}

/** Measures the session as it runs for `seconds`. */
export async function measureWindow(session: RemoteFanOut, seconds: number): Promise<Window> {
  const framesBefore = await session.receivedFrames();
  const encodedBefore = session.encodedFrames();
  const start = usage();
  await sleep(seconds * 1000);
  const end = usage();
  (globalThis as { gc?: () => void }).gc?.();
  const rssBytes = process.memoryUsage.rss();
  const elapsed = end.wallSeconds - start.wallSeconds;
  const framesAfter = await session.receivedFrames();
  return {
    start,
    end,
    rssBytes,
    viewerFps: framesAfter.map((frames, i) => (frames - framesBefore[i]) / elapsed),
    sourceFps: (session.encodedFrames() - encodedBefore) / elapsed,
  };
}

/** Figure 4. */
export async function fanOutScale({ quick, log }: FigureOptions): Promise<Figure> {
  const steps = quick ? [1, 5] : [1, 10, 25, 50, 100, 150, 200];
  const seconds = quick ? 3 : 10;
  const session = await RemoteFanOut.start();
  const rows: Row[] = [];
  let joinFailure: string | undefined;
  try {
    await sleep(SETTLE_MS);
    const baseline = await measureWindow(session, seconds);
    const baseCpu = cpuPercent(baseline.start, baseline.end);
    rows.push({
      viewers: 0,
      joinSeconds: null,
      cpuPercent: round(baseCpu, 1),
      cpuPerViewer: null,
      rssMiB: round(baseline.rssBytes / 2 ** 20, 1),
      rssPerViewerMiB: null,
      threads: baseline.end.threads,
      threadsPerViewer: null,
      sourceFps: round(baseline.sourceFps, 1),
      minViewerFps: null,
      medianViewerFps: null,
      fullRate: null,
    });
    for (const viewers of steps) {
      const joinStart = performance.now();
      try {
        await session.addViewers(viewers - session.viewerCount, JOIN_CONCURRENCY);
      } catch (error) {
        // A step whose viewers cannot all join ends the figure's steps, not the figure.
        log(`  ${viewers} viewers: not all joined: ${(error as Error).message}`);
        joinFailure = `${viewers} viewers did not all join: ${(error as Error).message}`;
        break;
      }
      const joinSeconds = (performance.now() - joinStart) / 1000;
      await sleep(SETTLE_MS);
      const window = await measureWindow(session, seconds);
      const cpu = cpuPercent(window.start, window.end);
      const minFps = Math.min(...window.viewerFps);
      rows.push({
        viewers,
        joinSeconds: round(joinSeconds, 1),
        cpuPercent: round(cpu, 1),
        cpuPerViewer: round((cpu - baseCpu) / viewers, 2),
        rssMiB: round(window.rssBytes / 2 ** 20, 1),
        rssPerViewerMiB: round((window.rssBytes - baseline.rssBytes) / 2 ** 20 / viewers, 2),
        threads: window.end.threads,
        threadsPerViewer: round((window.end.threads - baseline.end.threads) / viewers, 1),
        sourceFps: round(window.sourceFps, 1),
        minViewerFps: round(minFps, 1),
        medianViewerFps: round(median(window.viewerFps), 1),
        fullRate: minFps >= FULL_RATE_SHARE * FRAME_RATE,
      });
      log(`  ${viewers} viewers: ${JSON.stringify(rows.at(-1))}`);
    }
  } finally {
    session.close();
  }
  const last = rows.at(-1)!;
  // The largest step up to which every step kept every viewer at full rate.
  const firstShort = rows.findIndex((row) => row.fullRate === false);
  const fullRateUpTo = (firstShort === -1 ? last : rows[firstShort - 1]).viewers as number;
  return {
    title: 'Fan-out: the sending process, N viewers',
    method:
      `One MediaFanOut (lib/media/fan-out.ts) encodes a live test pattern (320x240@${FRAME_RATE}, VP8 ${FAN_OUT_BITRATE} kbit/s) once and ` +
      `sends it to every viewer. The viewers run in a second process (bench/fan-out-viewers.ts, signalling over the child-process IPC ` +
      `channel): each is a receiving WebRtcBin that depayloads the video and counts whole frames (rtpvp8depay → fakesink, no decoding), ` +
      `so every number here is the sending side's alone. Viewers are added ${JOIN_CONCURRENCY} at a time until each step's count is ` +
      `reached; after ${SETTLE_MS / 1000} s the sending process is measured for ${seconds} s: CPU (user + system, all threads) as a ` +
      `percentage of one core, and at the end of the window its thread count and RSS (after a forced garbage collection); per-viewer ` +
      `figures are the increase over the 0-viewer row (the source alone) divided by the viewers. "Full rate" means every viewer ` +
      `received at least ${FULL_RATE_SHARE * 100}% of ${FRAME_RATE} fps during the window. Both processes share the machine's cores ` +
      `(listed above), so the viewers' own work (${steps.at(-1)} receiving webrtcbins at the last step) competes with the sender's.` +
      (joinFailure !== undefined ? ` Steps stopped: ${joinFailure}.` : ''),
    columns: [
      { key: 'viewers', label: 'Viewers' },
      { key: 'joinSeconds', label: 'Join (s)' },
      { key: 'cpuPercent', label: 'CPU (% of a core)' },
      { key: 'cpuPerViewer', label: 'CPU per viewer (%)' },
      { key: 'rssMiB', label: 'RSS (MiB)' },
      { key: 'rssPerViewerMiB', label: 'RSS per viewer (MiB)' },
      { key: 'threads', label: 'Threads' },
      { key: 'threadsPerViewer', label: 'Threads per viewer' },
      { key: 'sourceFps', label: 'Source fps' },
      { key: 'minViewerFps', label: 'Slowest viewer fps (received)' },
      { key: 'medianViewerFps', label: 'Median viewer fps' },
      { key: 'fullRate', label: 'Full rate' },
    ],
    rows,
    headline:
      `sending side, ${last.viewers} viewers: ${last.cpuPercent}% CPU, ${last.rssPerViewerMiB} MiB and ${last.threadsPerViewer} threads per viewer; ` +
      `every viewer at full rate up to ${fullRateUpTo} viewers` +
      (joinFailure !== undefined ? `; ${steps.find((step) => step > (last.viewers as number))} viewers did not all join` : ''),
  };
}
