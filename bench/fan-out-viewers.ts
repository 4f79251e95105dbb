// The viewers of figure 4, in a process of their own so that the figure measures
// the sending side alone. Each viewer is a receiving WebRtcBin that depayloads
// the VP8 stream and counts whole frames (rtpvp8depay outputs one buffer per
// frame) without decoding them: what the figure asks is whether the sender
// delivers every frame to every viewer. Started by bench/fan-out-scale.ts with
// an IPC channel; see bench/support/viewer-protocol.ts.
import { PeerConnector, WebRtcBin } from '../lib/index.js';
import type { FromViewers, ToViewers } from './support/viewer-protocol.js';

const VIEWER_BRANCH = 'rtpvp8depay wait-for-keyframe=true request-keyframe=true ! fakesink name=frames sync=false async=false';

const viewers = new Map<number, { peer: WebRtcBin; connector: PeerConnector }>();

function post(message: FromViewers): void {
  process.send?.(message);
}

function frames(peer: WebRtcBin): number {
  return (peer.pipeline.getElement('frames')?.get('stats') as { rendered?: number } | undefined)?.rendered ?? 0;
}

function add(id: number): void {
  const peer = new WebRtcBin({ latency: 50 });
  const connector = new PeerConnector(peer, { role: 'answerer', send: (payload) => post({ type: 'signal', id, payload }) });
  connector.on('error', (error) => post({ type: 'error', id, message: error.message }));
  viewers.set(id, { peer, connector });
  peer.on('track', (track) => {
    track.link(VIEWER_BRANCH);
    // Polled: a frame arriving is a count on the streaming thread, not an event.
    const poll = setInterval(() => {
      if (peer.closed) clearInterval(poll);
      else if (frames(peer) > 0) {
        clearInterval(poll);
        post({ type: 'flowing', id });
      }
    }, 20);
  });
}

process.on('message', (message: ToViewers) => {
  switch (message.type) {
    case 'add':
      add(message.id);
      break;
    case 'signal':
      void viewers.get(message.id)?.connector.handle(message.payload);
      break;
    case 'frames':
      post({ type: 'frames', frames: Object.fromEntries([...viewers].map(([id, { peer }]) => [id, frames(peer)])) });
      break;
    case 'close':
      for (const { peer, connector } of viewers.values()) {
        connector.close();
        peer.close();
      }
      process.exit(0);
  }
});
// The sending process going away ends this one too.
process.on('disconnect', () => process.exit(0));
