import { afterEach } from 'vitest';

import { WebRtcBin } from '../../lib/index.js';

/**
 * Two standalone WebRtcBins (jitterbuffer latency 50 ms), closed after the
 * current test. Call useWebRtcBinPairs() at the top of a test file.
 */
export function useWebRtcBinPairs(): () => [WebRtcBin, WebRtcBin] {
  const open: WebRtcBin[] = [];
  afterEach(() => {
    for (const webrtcbin of open.splice(0)) webrtcbin.close();
  });
  return () => {
    const pair: [WebRtcBin, WebRtcBin] = [new WebRtcBin({ latency: 50 }), new WebRtcBin({ latency: 50 })];
    open.push(...pair);
    return pair;
  };
}
