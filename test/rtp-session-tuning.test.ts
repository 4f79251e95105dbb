// Every RTP session inside a WebRtcBin gets the RTCP timing of
// lib/core/rtcp-timing.ts, set on the pipeline's control thread after a
// description is applied: read back from the sessions.
import { describe, expect, it } from 'vitest';

import { native, type NativeObject } from '../lib/core/native.js';
import { RTCP_BANDWIDTH_BPS, RTCP_MIN_INTERVAL_NS, TWCC_FEEDBACK_INTERVAL_NS } from '../lib/core/rtcp-timing.js';
import { PeerConnector, type WebRtcBin } from '../lib/index.js';
import { rendered, VP8_SOURCE } from './support/media.js';
import { until } from './support/wait.js';
import { useWebRtcBinPairs } from './support/webrtcbins.js';

const pair = useWebRtcBinPairs();

/** The RTPSession objects inside a webrtcbin. */
function sessions(webrtcbin: WebRtcBin): NativeObject[] {
  return native
    .binElements(webrtcbin.element.native)
    .filter((element) => element.factoryName === 'rtpsession')
    .map((element) => element.get('internal-session') as NativeObject);
}

function timing(session: NativeObject): Record<string, unknown> {
  return {
    'rtcp-min-interval': session.get('rtcp-min-interval'),
    'rtcp-fraction': session.get('rtcp-fraction'),
    'twcc-feedback-interval': session.get('twcc-feedback-interval'),
  };
}

const TUNED = {
  'rtcp-min-interval': RTCP_MIN_INTERVAL_NS,
  'rtcp-fraction': RTCP_BANDWIDTH_BPS,
  'twcc-feedback-interval': TWCC_FEEDBACK_INTERVAL_NS,
};

describe('RTCP timing of the RTP sessions', () => {
  it('is set on both sides once a negotiation has applied its descriptions, and media flows', async () => {
    const [sender, receiver] = pair();
    sender.addTrack(VP8_SOURCE);
    receiver.on('track', (track) => track.link('rtpvp8depay ! vp8dec ! fakesink name=frames'));
    await PeerConnector.pair(sender, receiver);
    await until(() => rendered(receiver.pipeline, 'frames') >= 5, 'frames decoded');
    for (const webrtcbin of [sender, receiver]) {
      // Queued on the control thread after the last description: bounded wait for it to have run.
      await until(() => sessions(webrtcbin).every((session) => session.get('rtcp-min-interval') === RTCP_MIN_INTERVAL_NS), 'sessions tuned');
      const found = sessions(webrtcbin);
      expect(found.length).toBeGreaterThan(0);
      for (const session of found) expect(timing(session)).toEqual(TUNED);
    }
  });
});
