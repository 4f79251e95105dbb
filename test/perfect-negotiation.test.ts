// The W3C "perfect negotiation" pattern between two WebRtcBins that both add
// video at the same moment, so their offers cross (glare): the polite side rolls
// its offer back and answers, the impolite side ignores the crossing offer.
import { afterEach, describe, expect, it } from 'vitest';

import { PeerConnector, type SessionPayload, type SignalingState, WebRtcBin } from '../lib/index.js';
import { rendered, VP8_SOURCE } from './support/media.js';
import { until } from './support/wait.js';

const open: { close(): void }[] = [];
afterEach(() => {
  for (const thing of open.splice(0)) thing.close();
});

/**
 * A signalling channel with a random delay per message that keeps the order, as
 * a WebSocket through a server does.
 */
function delayedChannel(deliver: (message: SessionPayload) => void, maxDelayMs: number): (message: SessionPayload) => void {
  const queue: SessionPayload[] = [];
  const deliverNext = () => {
    deliver(queue.shift()!);
    if (queue.length > 0) setTimeout(deliverNext, Math.random() * maxDelayMs);
  };
  return (message) => {
    queue.push(message);
    if (queue.length === 1) setTimeout(deliverNext, Math.random() * maxDelayMs);
  };
}

function decodesIncomingVideo(webrtcbin: WebRtcBin, sink: string): void {
  webrtcbin.on('track', (track) => track.link(`rtpvp8depay ! vp8dec ! fakesink name=${sink}`));
}

describe('perfect negotiation', () => {
  it('20 rounds of crossing offers with random signalling delays: every round decodes video both ways', async () => {
    let glareRounds = 0;
    for (let round = 0; round < 20; round++) {
      const impolite = new WebRtcBin({ latency: 50 });
      const polite = new WebRtcBin({ latency: 50 });
      open.push(impolite, polite);
      const politeStates: SignalingState[] = [];
      polite.on('signalingstatechange', (state) => politeStates.push(state));
      decodesIncomingVideo(impolite, 'from-polite');
      decodesIncomingVideo(polite, 'from-impolite');
      const errors: Error[] = [];
      let a!: PeerConnector;
      let b!: PeerConnector;
      a = new PeerConnector(impolite, { role: 'impolite', send: delayedChannel((message) => void b.handle(message), 20) });
      b = new PeerConnector(polite, { role: 'polite', send: delayedChannel((message) => void a.handle(message), 20) });
      a.on('error', (error) => errors.push(new Error(`impolite: ${error.message}`)));
      b.on('error', (error) => errors.push(new Error(`polite: ${error.message}`)));
      // Both add video at the same moment: each wants to offer.
      impolite.addTrack(VP8_SOURCE);
      polite.addTrack(VP8_SOURCE);

      await until(
        () => rendered(impolite.pipeline, 'from-polite') >= 5 && rendered(polite.pipeline, 'from-impolite') >= 5,
        `round ${round}: frames decoded both ways (errors: ${errors.map((e) => e.message).join('; ')})`,
        20_000,
      );
      expect(errors).toEqual([]);
      // The polite side went from its own offer straight back to stable: a rollback.
      if (politeStates.join(' ').includes('have-local-offer stable have-remote-offer')) glareRounds++;
      impolite.close();
      polite.close();
    }
    // Crossing offers must actually have happened, or this test proved nothing.
    console.log(`perfect negotiation: offers crossed in ${glareRounds} of 20 rounds`);
    expect(glareRounds).toBeGreaterThan(0);
  }, 240_000);
});
