// What the library sets on the transports of every connection so that it forms
// fast and carries data without loss: an ECDSA DTLS certificate whose
// fingerprint is the one in the description (browsers refuse a mismatch), ICE
// sockets with larger kernel buffers, and ICE transport states that follow
// libnice's however fast a connection forms.
import { execFileSync } from 'node:child_process';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { afterEach, describe, expect, it } from 'vitest';

import { type Element, PeerConnector, WebRtcBin, type WebRtcBinOptions } from '../lib/index.js';
import { makeCertificate } from '../lib/core/dtls-certificate.js';
import { ICE_SOCKET_BUFFER_BYTES } from '../lib/core/ice-agent.js';
import { useWebRtcBinPairs } from './support/webrtcbins.js';
import { until } from './support/wait.js';

const makePair = useWebRtcBinPairs();
const opened: WebRtcBin[] = [];
afterEach(() => {
  for (const webrtcbin of opened.splice(0)) webrtcbin.close();
});

/** The transports (udp, tcp) of the candidates a connected pair's offerer gathered. */
async function gatheredTransports(options: WebRtcBinOptions): Promise<Set<string>> {
  const [a, b] = [new WebRtcBin(options), new WebRtcBin(options)];
  opened.push(a, b);
  const transports = new Set<string>();
  a.on('icecandidate', (candidate) => {
    const transport = candidate?.candidate.split(' ')[2];
    if (transport !== undefined) transports.add(transport.toLowerCase());
  });
  a.createDataChannel('candidates');
  await PeerConnector.pair(a, b);
  await until(() => a.connectionState === 'connected' && b.connectionState === 'connected', 'both peers are connected');
  await until(() => a.iceGatheringState === 'complete', 'gathering is complete');
  return transports;
}

async function connectedPair(): Promise<[WebRtcBin, WebRtcBin]> {
  const [a, b] = makePair();
  a.createDataChannel('transport');
  await PeerConnector.pair(a, b);
  await until(() => a.connectionState === 'connected' && b.connectionState === 'connected', 'both peers are connected');
  return [a, b];
}

/** The certificate this side received from its peer during the DTLS handshake. */
function peerCertificate(element: Element): X509Certificate {
  const sctp = element.get('sctp-transport') as Element;
  const dtls = sctp.get('transport') as Element;
  return new X509Certificate(dtls.get('remote-certificate') as string);
}

function fingerprintIn(sdp: string): string {
  const match = /^a=fingerprint:sha-256 (\S+)/m.exec(sdp);
  if (match === null) throw new Error('no sha-256 fingerprint in the description');
  return match[1];
}

/** Receive buffer (bytes, as the kernel accounts it) of each UDP socket of this process. */
function udpReceiveBuffers(): number[] {
  const out = execFileSync('ss', ['-u', '-a', '-m', '-n', '-p'], { encoding: 'utf8' });
  const sockets = out.split(/\n(?=\S)/).filter((entry) => entry.includes(`pid=${process.pid},`));
  return sockets.map((entry) => Number(/\brb(\d+)/.exec(entry)?.[1] ?? NaN));
}

describe('connection transports', () => {
  it('each side presents an ECDSA certificate whose SHA-256 is the fingerprint in its description', async () => {
    const [a, b] = await connectedPair();
    const fromB = peerCertificate(a.element);
    const fromA = peerCertificate(b.element);
    expect(fromA.publicKey.asymmetricKeyType).toBe('ec');
    expect(fromB.publicKey.asymmetricKeyType).toBe('ec');
    expect(fromA.fingerprint256).toBe(fingerprintIn(a.localDescription!.sdp));
    expect(fromB.fingerprint256).toBe(fingerprintIn(b.localDescription!.sdp));
    expect(fingerprintIn(b.remoteDescription!.sdp)).toBe(fromA.fingerprint256);
  });

  it('every certificate it makes is one OpenSSL reads (2000, each with a random serial number)', () => {
    // A serial number starting with a zero byte was "illegal padding" to OpenSSL, about
    // one process in 200: every DTLS handshake of that process then failed.
    const refused: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const { pem, der } = makeCertificate(Date.now(), generateKeyPairSync('ec', { namedCurve: 'prime256v1' }));
      try {
        const certificate = new X509Certificate(pem);
        expect(certificate.raw.equals(der)).toBe(true);
      } catch (error) {
        refused.push((error as Error).message);
      }
    }
    expect(refused).toEqual([]);
  });

  it('gathers UDP candidates only by default, and TCP ones too with iceTcp: true', async () => {
    expect([...(await gatheredTransports({}))]).toEqual(['udp']);
    expect([...(await gatheredTransports({ iceTcp: true }))].sort()).toEqual(['tcp', 'udp']);
  });

  it('paces ICE checks 1 ms apart by default, 5 ms with a TURN server, and as asked', () => {
    const pacing = (options: WebRtcBinOptions) => {
      const webrtcbin = new WebRtcBin(options);
      opened.push(webrtcbin);
      const agent = (webrtcbin.element.get('ice-agent') as Element).get('agent') as Element;
      return agent.get('stun-pacing-timer');
    };
    expect(pacing({})).toBe(1);
    expect(pacing({ iceServers: [{ urls: 'turn:127.0.0.1:3478', username: 'user', credential: 'secret' }] })).toBe(5);
    expect(pacing({ iceCheckInterval: 20 })).toBe(20);
  });

  it('ICE sockets get the larger kernel buffers, as far as net.core.rmem_max allows', async () => {
    await connectedPair();
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    // Linux doubles what is asked for (bookkeeping), after capping it at rmem_max.
    const expected = 2 * Math.min(ICE_SOCKET_BUFFER_BYTES, rmemMax);
    const buffers = udpReceiveBuffers();
    expect(buffers.length).toBeGreaterThan(0);
    for (const bytes of buffers) expect(bytes).toBe(expected);
  });

  it('every peer of a burst connects, however fast its checks succeed (up to 1000 pairs in 3 min, 25 at a time, checks 1 ms apart)', async () => {
    // libnice can report `connecting` after `ready` when its checks succeed while webrtcbin's thread is
    // still adding candidates; GStreamer's ICE transport then stayed `checking` for good, and DTLS never
    // started. Without the fix, 2 runs of 3 here had a stuck pair; fan-out viewers stuck one in 300 to 1000 at the default pacing.
    const stuck: string[] = [];
    const slow: string[] = [];
    const states = ([a, b]: [WebRtcBin, WebRtcBin]) =>
      `offerer ICE ${a.iceConnectionState}, DTLS ${a.connectionState}; answerer ICE ${b.iceConnectionState}, DTLS ${b.connectionState}`;
    // Bounded in time, so that a loaded machine still gets the list of stuck pairs, not a test timeout.
    const deadline = Date.now() + 180_000;
    let rounds = 0;
    for (let round = 0; round < 40 && Date.now() < deadline; round++, rounds++) {
      const pairs = Array.from({ length: 25 }, () => {
        const pair: [WebRtcBin, WebRtcBin] = [new WebRtcBin({ iceCheckInterval: 1 }), new WebRtcBin({ iceCheckInterval: 1 })];
        opened.push(...pair);
        pair[0].createDataChannel('burst');
        return pair;
      });
      await Promise.all(pairs.map(([a, b]) => PeerConnector.pair(a, b)));
      const connected = ([a, b]: [WebRtcBin, WebRtcBin]) => a.connectionState === 'connected' && b.connectionState === 'connected';
      await until(() => pairs.every(connected), 'every pair of the round is connected', 15_000).catch(() => undefined);
      // On a loaded 2-core CI machine, 2 pairs of about 2,000 had ICE completed and DTLS still
      // connecting after 15 s (2026-12-02, not reproduced here with the machine loaded). OpenSSL
      // resends a lost handshake flight after 1, 2, 4, 8 and 16 s, so a few lost flights take that
      // long: such a pair gets 45 s more, and is named as slow; one that never connects fails the test.
      const late = pairs.filter((pair) => !connected(pair));
      if (late.length > 0) {
        await until(() => late.every(connected), 'the late pairs of the round connect', 45_000).catch(() => undefined);
        for (const pair of late.filter(connected)) slow.push(`round ${round}: ${states(pair)} after 15 s, connected within 60 s`);
      }
      for (const pair of late.filter((pair) => !connected(pair))) stuck.push(`round ${round}: ${states(pair)} after 60 s`);
      for (const webrtcbin of opened.splice(0)) webrtcbin.close();
    }
    if (slow.length > 0) console.log(`burst: ${slow.length} slow pair(s): ${slow.join('; ')}`);
    expect(stuck, stuck.join('; ')).toEqual([]);
    expect(rounds).toBeGreaterThan(0);
  }, 300_000);
});
