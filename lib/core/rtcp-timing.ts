// When a WebRtcBin's RTP sessions send RTCP: transport-wide congestion control
// feedback a sender can steer by, and receiver reports as often as browsers
// send them. GStreamer 1.22's rtpsession, in the feedback profile webrtcbin
// uses, follows RFC 4585's timing rules, which were made for multicast groups:
// - transport-cc feedback is queued at each frame's last packet and goes out as
//   "early" RTCP, but RFC 4585 allows one early packet per regular interval,
//   and that interval comes from an RTCP bandwidth of 5% of the media rate
//   (at least 64 kbit/s): feedback waited 140 to 180 ms (median) in a stream's
//   first 3 s, and a quarter of the requests to send it were refused
//   (measured on loopback from Chromium, docs/receiving.md). Chromium probes
//   the link in those first seconds; with late feedback its estimate stayed
//   near 0.3 Mbit/s for 8 s in one of two runs;
// - regular receiver reports, which give the sender its round-trip time and
//   loss fraction, are 2.5 to 7.5 s apart (rtcp-min-interval 5 s): Chromium
//   had no round-trip time from us for the first 5 to 8 s of a call.
// With an RTCP bandwidth given in bits per second the early-packet interval
// becomes a few milliseconds, so every feedback (and every NACK, PLI, FIR)
// leaves at once; transport-cc feedback is made every 50 ms rather than at
// marker bits (audio has none); receiver reports come every 0.5 to 1.5 s.
import { ignoreOutcome, branchesOf } from './branch.js';
import { native, type NativeObject } from './native.js';

/** How often transport-cc feedback is made, in nanoseconds (libwebrtc sends it every 50 to 250 ms). */
export const TWCC_FEEDBACK_INTERVAL_NS = 50_000_000;

/**
 * The RTCP bandwidth of a session, in bits per second (rtpsession reads a value
 * of 1 or more as an absolute rate). What is sent stays what feedback needs,
 * about 20 kbit/s for 30 frames a second; this only lifts RFC 4585's spacing.
 */
export const RTCP_BANDWIDTH_BPS = 200_000;

/** The shortest regular RTCP interval, in nanoseconds: reports every 0.5 to 1.5 s, as browsers send them. */
export const RTCP_MIN_INTERVAL_NS = 1_000_000_000;

/**
 * GST_CLOCK_TIME_NONE: rtpsession keeps no received feedback. It keeps it only to
 * leave out a PLI another receiver sent already (multicast), and keeping it
 * asserts when a feedback packet comes with no running time, as at start-up or
 * teardown (rtp_source_retain_rtcp_packet: a GLib CRITICAL seen in our tests).
 */
const NO_FEEDBACK_RETENTION = 2n ** 64n - 1n;

const SETTINGS: [string, number | bigint][] = [
  ['rtcp-feedback-retention-window', NO_FEEDBACK_RETENTION],
  ['twcc-feedback-interval', TWCC_FEEDBACK_INTERVAL_NS],
  ['rtcp-fraction', RTCP_BANDWIDTH_BPS],
  ['rtcp-min-interval', RTCP_MIN_INTERVAL_NS],
];

/**
 * Gives each RTP session inside a webrtcbin the timing above, once per session
 * (webrtcbin makes its sessions while it applies descriptions). The values are
 * set on the pipeline's control thread: setting them takes the session's lock.
 * A session already tuned (or queued to be) is told by its values; calling this
 * again is cheap and sets nothing twice that matters.
 */
export function tuneRtcpTiming(pipeline: object, webrtcbin: NativeObject): void {
  const branches = branchesOf(pipeline);
  for (const element of native.binElements(webrtcbin)) {
    if (element.factoryName !== 'rtpsession') continue;
    const session = element.get('internal-session') as NativeObject | null;
    if (session === null || session.get('rtcp-min-interval') === RTCP_MIN_INTERVAL_NS) continue;
    for (const [property, value] of SETTINGS) ignoreOutcome(branches.setLater(session, property, value));
  }
}
