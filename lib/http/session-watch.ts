// Session expiry: a WHIP/WHEP peer may vanish without DELETE (a closed laptop,
// a crashed OBS). webrtcbin 1.22 does not check ICE consent, so a vanished peer
// can stay "connected": silence is what gives it away.
import type { RtcStatsReport } from '../core/stats.js';
import type { HttpSession } from './http-session.js';

/**
 * Ends a session whose peer never connected (within `connectTimeout`), whose
 * connection failed, or that went silent: connected, but no packet from the
 * peer (RTP, RTCP reports) for `inactivityTimeout`. Returns the timer to clear.
 */
export function watchSession(session: HttpSession, connectTimeout: number, inactivityTimeout: number): NodeJS.Timeout {
  let notConnectedSince = Date.now();
  let lastPackets = -1;
  let lastActivity = Date.now();
  let checking = false;
  const timer = setInterval(
    () => {
      if (checking || session.closed) return;
      const webrtcbin = session.webrtcbin;
      if (webrtcbin.closed) return void session.finish('closed');
      const state = webrtcbin.connectionState;
      if (state === 'failed') return void session.finish('failed');
      if (state !== 'connected') {
        if (Date.now() - notConnectedSince >= connectTimeout) void session.finish('expired');
        return;
      }
      notConnectedSince = Date.now();
      checking = true;
      webrtcbin
        .getStats()
        .then((report) => {
          const packets = packetsFromPeer(report);
          if (packets !== lastPackets) [lastPackets, lastActivity] = [packets, Date.now()];
          else if (Date.now() - lastActivity >= inactivityTimeout) void session.finish('expired');
        })
        .catch(() => undefined)
        .finally(() => (checking = false));
    },
    Math.max(50, Math.min(1000, Math.floor(Math.min(connectTimeout, inactivityTimeout) / 4))),
  );
  timer.unref();
  return timer;
}

/** Packets the peer sent us so far: RTP received and RTCP reports about what we send. */
function packetsFromPeer(report: RtcStatsReport): number {
  let total = 0;
  for (const stats of Object.values(report)) {
    for (const field of ['packetsReceived', 'bytesReceived', 'reportsReceived', 'roundTripTimeMeasurements']) {
      const value = stats[field];
      if (typeof value === 'number' && (stats.type === 'inbound-rtp' || stats.type === 'remote-inbound-rtp' || stats.type === 'transport' || stats.type === 'candidate-pair')) total += value;
    }
  }
  return total;
}
