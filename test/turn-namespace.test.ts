// TURN over UDP, TCP and the TLS port of a real coturn, relay-only on both sides, each proven to carry
// media; a wrong credential proven to fail for the right reason. coturn runs in a network namespace the
// test creates (a veth pair with 198.18.0.0/15 addresses, removed afterwards): libnice does not use
// loopback for UDP, so only there do UDP and TLS reach it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { type IceServer, MediaFanOut, type RtcStats, type WebRtcBin } from '../lib/index.js';
import { type Coturn, startCoturn } from './support/coturn.js';
import { createNamespace, type Namespace, namespacesAvailable } from './support/netns.js';
import { receive, type Receiver } from './support/receiver.js';
import { until } from './support/wait.js';

const available = namespacesAvailable();
if (!available) console.warn('turn-namespace: skipped, this machine does not let the tests create network namespaces (run as root)');

let namespace: Namespace | undefined;
let coturn: Coturn | undefined;
beforeAll(async () => {
  if (!available) return;
  namespace = createNamespace();
  coturn = await startCoturn({ namespace });
});
afterAll(async () => {
  await coturn?.stop();
  namespace?.remove();
});
const open: { close(): void }[] = [];
afterEach(() => {
  for (const thing of open.splice(0).reverse()) thing.close();
});

/** The local candidates of the pairs ICE selected (webrtcbin's stats). */
async function selectedLocalCandidates(webrtcbin: WebRtcBin): Promise<RtcStats[]> {
  const stats = Object.values(await webrtcbin.getStats());
  const byId = new Map(stats.map((s) => [s.id, s]));
  return stats
    .filter((s) => s.type === 'candidate-pair')
    .map((pair) => byId.get(pair.localCandidateId as string))
    .filter((s) => s !== undefined);
}

/** A fan-out and one receiving peer, both allowed only `server`, relay-only. */
async function relayOnlyCall(server: IceServer): Promise<{ viewer: WebRtcBin; receiver: Receiver; candidates: string[] }> {
  const relayOnly = { iceServers: [server], iceTransportPolicy: 'relay' as const };
  const fanOut = new MediaFanOut({ video: { source: 'videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1' }, ...relayOnly });
  open.push(fanOut);
  await fanOut.start();
  const viewer = fanOut.addViewer();
  const candidates: string[] = [];
  viewer.on('icecandidate', (candidate) => candidate !== null && candidates.push(candidate.candidate));
  const receiver = await receive(viewer, relayOnly);
  open.push(receiver);
  return { viewer, receiver, candidates };
}

/** Proves the call's media went through coturn's relay: decoded frames, relayed candidates on its address only. */
async function expectRelayedMedia({ viewer, receiver, candidates }: Awaited<ReturnType<typeof relayOnlyCall>>): Promise<void> {
  await until(() => receiver.videoFrames >= 15, 'frames are decoded through the relay');
  expect(candidates.length).toBeGreaterThan(0);
  for (const candidate of candidates) expect(candidate).toMatch(new RegExp(` ${coturn!.address.replaceAll('.', '\\.')} \\d+ typ relay `));
  for (const side of [viewer, receiver.webrtcbin]) {
    const local = await selectedLocalCandidates(side);
    expect(local.length).toBeGreaterThan(0);
    expect(local.every((candidate) => candidate.candidateType === 'relay' && candidate.address === coturn!.address)).toBe(true);
  }
}

/** coturn's log lines for allocations that succeeded on `port`, counted from line `from`. */
function allocationsOnPort(from: number, port: number): string[] {
  const lines = coturn!.log().split('\n').slice(from);
  const sessions = new Set(lines.filter((line) => line.includes(`local ${coturn!.address}:${port},`)).map((line) => /session (\d+)/.exec(line)?.[1]));
  return lines.filter((line) => /incoming packet ALLOCATE processed, success/.test(line) && sessions.has(/session (\d+)/.exec(line)?.[1]));
}

describe.skipIf(!available)('TURN in a network namespace', () => {
  it('relays H.264 over UDP (turn:...?transport=udp)', async () => {
    await expectRelayedMedia(await relayOnlyCall(coturn!.iceServers!.udp));
  });

  it('relays H.264 over TCP (turn:...?transport=tcp)', async () => {
    const from = coturn!.log().split('\n').length;
    const call = await relayOnlyCall(coturn!.iceServers!.tcp);
    await expectRelayedMedia(call);
    // Closed TCP sessions name their local port: close the call, then look for allocations on 3478 over TCP.
    for (const thing of open.splice(0).reverse()) thing.close();
    await until(() => allocationsOnPort(from, coturn!.port).length > 0, 'coturn logs the closed TCP allocations on its TURN port');
  });

  it("relays H.264 through the TLS port (turns:), though libnice speaks plain TURN there", async () => {
    const from = coturn!.log().split('\n').length;
    await expectRelayedMedia(await relayOnlyCall(coturn!.iceServers!.tls));
    for (const thing of open.splice(0).reverse()) thing.close();
    await until(() => allocationsOnPort(from, 5349).length > 0, "coturn logs the allocations made on its TLS port");
    // libnice 0.1.21 (Debian 12) sends TURN in clear text to a turns: server (see docs/examples.md); coturn
    // accepts that on its TLS port. A TLS session would be logged as TLS/TCP: if this starts to fail,
    // turns: is encrypted now and the documentation should say so.
    expect(coturn!.log().split('\n').slice(from).filter((line) => line.includes('TLS/TCP socket'))).toEqual([]);
  });

  it('a wrong credential: coturn refuses the allocation as unauthenticated, and no relayed candidate appears', async () => {
    const from = coturn!.log().split('\n').length;
    const wrong = { ...coturn!.iceServers!.udp, credential: 'not-the-password' };
    const { viewer, candidates } = await relayOnlyCall(wrong);
    await until(() => viewer.iceGatheringState === 'complete', 'gathering completes');
    await until(
      () => coturn!.log().split('\n').slice(from).some((line) => /check_stun_auth: user gst-webrtc-node credentials are incorrect/.test(line)),
      'coturn logs that the credentials are incorrect',
    );
    expect(candidates).toEqual([]);
    expect(coturn!.log().split('\n').slice(from).filter((line) => /ALLOCATE processed, success/.test(line))).toEqual([]);
  });
});
