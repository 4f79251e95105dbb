// TURN through a real coturn on 127.0.0.1, relay only on both sides
// (iceTransportPolicy 'relay'): the call connects through relayed candidates and
// carries media.
import { afterEach, describe, expect, it } from 'vitest';

import { MediaFanOut, type RtcStats, type WebRtcBin } from '../lib/index.js';
import { type Coturn, startCoturn } from './support/coturn.js';
import { receive } from './support/receiver.js';
import { until } from './support/wait.js';

const open: { close(): void }[] = [];
let coturn: Coturn | undefined;
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) thing.close();
  await coturn?.stop();
  coturn = undefined;
});

/** The candidates of the pair ICE selected (webrtcbin's stats). */
async function selectedCandidates(webrtcbin: WebRtcBin): Promise<{ local: RtcStats[]; remote: RtcStats[] }> {
  const stats = Object.values(await webrtcbin.getStats());
  const byId = new Map(stats.map((s) => [s.id, s]));
  const pairs = stats.filter((s) => s.type === 'candidate-pair');
  return {
    local: pairs.map((pair) => byId.get(pair.localCandidateId as string)).filter((s) => s !== undefined),
    remote: pairs.map((pair) => byId.get(pair.remoteCandidateId as string)).filter((s) => s !== undefined),
  };
}

describe('TURN', () => {
  it('connects relay-only through coturn and carries H.264 and Opus', async () => {
    coturn = await startCoturn();
    const relayOnly = { iceServers: [coturn.iceServer], iceTransportPolicy: 'relay' as const };
    const fanOut = new MediaFanOut({
      video: { source: 'videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=15/1' },
      audio: { source: 'audiotestsrc is-live=true' },
      ...relayOnly,
    });
    open.push(fanOut);
    await fanOut.start();
    const viewer = fanOut.addViewer();
    const candidates: string[] = [];
    viewer.on('icecandidate', (candidate) => candidate !== null && candidates.push(candidate.candidate));
    const receiver = await receive(viewer, relayOnly);
    open.push(receiver);

    await until(() => receiver.videoFrames >= 30 && receiver.audioBuffers >= 30, 'media flows through the relay', 20_000);
    expect(viewer.connectionState).toBe('connected');
    expect(receiver.webrtcbin.connectionState).toBe('connected');
    // Relay only: every candidate offered is a relayed one, on coturn's relay address.
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.every((candidate) => / typ relay /.test(candidate) && / 127\.0\.0\.1 /.test(candidate))).toBe(true);
    for (const side of [viewer, receiver.webrtcbin]) {
      const { local } = await selectedCandidates(side);
      expect(local.length).toBeGreaterThan(0);
      expect(local.every((candidate) => candidate.candidateType === 'relay')).toBe(true);
    }
  });

  it('does not connect relay-only with a wrong TURN password: coturn refuses it as unauthenticated', async () => {
    coturn = await startCoturn();
    const wrong = { iceServers: [{ ...coturn.iceServer, credential: 'not-the-password' }], iceTransportPolicy: 'relay' as const };
    const fanOut = new MediaFanOut({ video: { source: 'videotestsrc is-live=true ! video/x-raw,width=160,height=120' }, ...wrong });
    open.push(fanOut);
    await fanOut.start();
    const viewer = fanOut.addViewer();
    const candidates: string[] = [];
    viewer.on('icecandidate', (candidate) => candidate !== null && candidates.push(candidate.candidate));
    const receiver = await receive(viewer, wrong);
    open.push(receiver);
    await until(() => viewer.iceGatheringState === 'complete', 'gathering completes');
    // The reason, from the server: the user exists and the message integrity did not match.
    await until(() => /check_stun_auth: user gst-webrtc-node credentials are incorrect/.test(coturn!.log()), 'coturn logs incorrect credentials');
    expect(coturn.log()).not.toMatch(/ALLOCATE processed, success/);
    // No relayed candidate, and relay-only allows no other kind.
    expect(candidates).toEqual([]);
  });
});
