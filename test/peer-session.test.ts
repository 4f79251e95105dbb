// PeerSession: two WebRtcBins connected through the signalling server, as two apps would be.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { PeerSession, SignallingClient, SignallingServer, type SessionInfo, WebRtcBin } from '../lib/index.js';
import { rendered, VP8_SOURCE } from './support/media.js';
import { startFakeResolver } from './support/fake-resolver.js';
import { nextEvent, until } from './support/wait.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(): Promise<SignallingServer> {
  const server = new SignallingServer({ port: 0 });
  cleanups.push(() => server.close());
  await server.listen();
  return server;
}

async function connectClient(server: SignallingServer, role: string): Promise<SignallingClient> {
  const client = new SignallingClient();
  cleanups.push(() => client.close());
  await client.connect(server.url, { role });
  return client;
}

function receiver(): WebRtcBin {
  const webrtcbin = new WebRtcBin({ latency: 50 });
  cleanups.push(() => webrtcbin.close());
  webrtcbin.on('track', (track) => track.link('rtpvp8depay ! vp8dec ! fakesink name=out sync=false'));
  return webrtcbin;
}

function sender(): WebRtcBin {
  const webrtcbin = new WebRtcBin();
  cleanups.push(() => webrtcbin.close());
  return webrtcbin;
}

describe('PeerSession', () => {
  it('connects a sender that starts the session (offerer) to a receiver (answerer); frames are decoded', async () => {
    const server = await startServer();
    const [alice, bob] = await Promise.all([connectClient(server, 'sender'), connectClient(server, 'receiver')]);
    const tx = sender();
    const rx = receiver();
    let bobSession: PeerSession | undefined;
    bob.on('session', (session) => {
      bobSession = new PeerSession(rx, bob, session);
    });

    const aliceSession = await PeerSession.start(tx, alice, bob.peerId!);
    tx.addTrack(VP8_SOURCE);
    expect(aliceSession.role).toBe('offerer');
    expect(aliceSession.peerId).toBe(bob.peerId);
    await nextEvent(aliceSession, 'negotiated');
    expect(bobSession?.role).toBe('answerer');
    expect(bobSession?.sessionId).toBe(aliceSession.sessionId);

    await until(() => rendered(rx.pipeline, 'out') >= 15, 'the receiver decodes frames');
    expect(tx.connectionState).toBe('connected');
  });

  it('lets the peer that starts the session be the answerer', async () => {
    const server = await startServer();
    const [viewer, camera] = await Promise.all([connectClient(server, 'viewer'), connectClient(server, 'camera')]);
    const tx = sender();
    const rx = receiver();
    const cameraSessions: PeerSession[] = [];
    camera.on('session', (session: SessionInfo) => {
      cameraSessions.push(new PeerSession(tx, camera, session, { role: 'offerer' }));
      tx.addTrack(VP8_SOURCE);
    });
    const viewerSession = await PeerSession.start(rx, viewer, camera.peerId!, { role: 'answerer' });
    expect(viewerSession.role).toBe('answerer');
    await until(() => cameraSessions.length === 1, "the camera's session starts");
    expect(cameraSessions[0].role).toBe('offerer');
    await until(() => rendered(rx.pipeline, 'out') >= 15, 'the viewer decodes frames');
  });

  it('ends when the remote peer leaves, and close() ends the session for the other side', async () => {
    const server = await startServer();
    const [alice, bob, carol] = await Promise.all([connectClient(server, 'a'), connectClient(server, 'b'), connectClient(server, 'c')]);
    const tx = sender();
    const rx = receiver();
    const bobSessions: PeerSession[] = [];
    bob.on('session', (session) => bobSessions.push(new PeerSession(rx, bob, session)));

    const toBob = await PeerSession.start(tx, alice, bob.peerId!);
    tx.addTrack(VP8_SOURCE);
    await nextEvent(toBob, 'negotiated');
    const bobEnded = nextEvent(bobSessions[0], 'ended');
    toBob.close();
    expect(toBob.ended).toBe(true);
    expect(await bobEnded).toEqual(['ended']);
    expect(bobSessions[0].ended).toBe(true);
    expect(tx.closed).toBe(false);

    // A second session on the same client, then the other side disconnects.
    const carolWebRtcBin = receiver();
    carol.on('session', (session) => new PeerSession(carolWebRtcBin, carol, session));
    const tx2 = sender();
    const toCarol = await PeerSession.start(tx2, alice, carol.peerId!);
    tx2.addTrack(VP8_SOURCE);
    await nextEvent(toCarol, 'negotiated');
    const aliceEnded = nextEvent(toCarol, 'ended');
    await carol.close();
    expect(await aliceEnded).toEqual(['peer-left']);
  });

  it('ends when its WebRtcBin closes, and rejects a second PeerSession for the same session', async () => {
    const server = await startServer();
    const [alice, bob] = await Promise.all([connectClient(server, 'a'), connectClient(server, 'b')]);
    const tx = sender();
    const session = await alice.startSession(bob.peerId!);
    const peer = new PeerSession(tx, alice, session);
    expect(() => new PeerSession(sender(), alice, session)).toThrow(TypeError);
    expect(() => new PeerSession(sender(), alice, { ...session, sessionId: 'other' }, { role: 'boss' as never })).toThrow(/role/);
    const bobSawEnd = nextEvent(bob, 'sessionended');
    const ended = nextEvent(peer, 'ended');
    tx.close();
    expect(await ended).toEqual(['closed']);
    expect((await bobSawEnd)[0]).toBe(session.sessionId);
  });

  it("accepts a browser's mDNS (.local) host candidates without an error and never asks DNS for them", async () => {
    // Two peers in a child process whose /etc/resolv.conf names a resolver that records every query.
    const resolver = await startFakeResolver();
    cleanups.push(() => resolver.close());
    const child = resolver.spawnWith([process.execPath, join(__dirname, 'support/local-candidates-peer.mjs')]);
    cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (output += text));
    const [code] = await nextEvent<[number | null]>(child, 'exit');
    expect(code, output).toBe(0);
    const report = JSON.parse(output.trim().split('\n').at(-1)!) as { problems: string[]; added: number; control: string; connectionState: string };
    expect(report.connectionState).toBe('connected');
    expect(report.added).toBeGreaterThan(0);
    expect(report.problems).toEqual([]);
    // The control lookup reached the recording resolver, after the .local candidates were added and the peers connected.
    expect(resolver.queries).toContain('control.gst-webrtc-node.test');
    expect(resolver.queries.filter((name) => name.endsWith('.local'))).toEqual([]);
  });
});
