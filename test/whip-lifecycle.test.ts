// WHIP/WHEP sessions end and free everything: 50 publish/unpublish cycles bring
// file descriptors and threads back to baseline, and a session whose peer
// vanished without DELETE is freed after its timeout.
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';

import { MediaFanOut, WebRtcBin, WhepClient, WhepServer, WhipClient, WhipServer, type HttpSessionEndReason } from '../lib/index.js';
import { until } from './support/wait.js';

const TEST_VIDEO = 'videotestsrc is-live=true pattern=ball ! video/x-raw,width=160,height=120,framerate=15/1';

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

const fdCount = () => readdirSync('/proc/self/fd').length;
const threadCount = () => readdirSync('/proc/self/task').length;

/** A count once it has not changed for `quietMs` (closed webrtcbins' threads end shortly after close()). */
async function settled(count: () => number, quietMs = 1500): Promise<number> {
  let last = count();
  let since = Date.now();
  await until(
    () => {
      const now = count();
      if (now !== last) [last, since] = [now, Date.now()];
      return Date.now() - since >= quietMs;
    },
    'the count settles',
    30_000,
    100,
  );
  return last;
}

async function fanOut(): Promise<MediaFanOut> {
  const fan = new MediaFanOut({ video: { source: TEST_VIDEO } });
  open.push(fan);
  await fan.start();
  return fan;
}

describe('WHIP/WHEP session lifecycle', () => {
  it('50 publish/unpublish cycles leave file descriptors and threads at baseline', async () => {
    const fan = await fanOut();
    const server = new WhipServer();
    open.push(server);
    server.on('track', (track) => track.discard());
    const url = await server.listen();
    const cycle = async () => {
      const client = new WhipClient(url, { trickle: true });
      await client.publish(fan);
      await until(() => server.sessions[0]?.webrtcbin.connectionState === 'connected', 'the session connects');
      await client.close();
      expect(server.sessions).toEqual([]);
    };
    // Warm-up: the DTLS certificate, GLib's thread pools, undici's connection.
    await cycle();
    const fds = await settled(fdCount);
    const threads = await settled(threadCount);
    for (let i = 0; i < 50; i++) await cycle();
    expect(fan.viewers).toEqual([]);
    expect(await settled(fdCount)).toBeLessThanOrEqual(fds);
    expect(await settled(threadCount)).toBeLessThanOrEqual(threads);
  }, 180_000);

  it('20 WHEP play/stop cycles leave the fan-out as it was', async () => {
    const fan = await fanOut();
    const server = new WhepServer({ source: fan });
    open.push(server);
    const url = await server.listen();
    const baseline = fan.elementCount;
    for (let i = 0; i < 20; i++) {
      const client = new WhepClient(url, { trickle: i % 2 === 0 });
      client.on('track', (track) => track.discard());
      const player = await client.play({ audio: false });
      await until(() => player.connectionState === 'connected', 'the player connects');
      await client.close();
      expect(server.sessions).toEqual([]);
    }
    await until(() => fan.viewers.length === 0, 'every viewer is removed');
    expect(fan.elementCount).toBe(baseline);
  }, 120_000);

  it('frees a WHIP session whose publisher vanished without DELETE, after the inactivity timeout', async () => {
    const fan = await fanOut();
    const server = new WhipServer({ inactivityTimeout: 2000, connectTimeout: 2000 });
    open.push(server);
    server.on('track', (track) => track.discard());
    const ended: HttpSessionEndReason[] = [];
    server.on('sessionclose', (_session, reason) => ended.push(reason));
    const url = await server.listen();
    const client = new WhipClient(url);
    open.push(client);
    const viewer = await client.publish(fan);
    await until(() => server.sessions[0]?.webrtcbin.connectionState === 'connected', 'the session connects');
    const session = server.sessions[0];
    // The publisher's machine goes away: no DELETE, no more packets.
    await fan.removeViewer(viewer);
    await until(() => ended.length === 1, 'the server frees the silent session', 20_000);
    expect(ended).toEqual(['expired']);
    expect(session.webrtcbin.closed).toBe(true);
    expect(server.sessions).toEqual([]);
  });

  it('frees a session whose client never connects, after the connect timeout', async () => {
    const server = new WhipServer({ connectTimeout: 1000 });
    open.push(server);
    const ended: HttpSessionEndReason[] = [];
    server.on('sessionclose', (_session, reason) => ended.push(reason));
    const url = await server.listen();
    const offerer = new WebRtcBin();
    open.push(offerer);
    offerer.addTransceiver('video', { direction: 'sendonly' });
    const offer = await offerer.createOffer();
    // POSTed, then never applied: no ICE from this side.
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer.sdp });
    expect(response.status).toBe(201);
    await until(() => ended.length === 1, 'the server frees the session', 10_000);
    expect(ended).toEqual(['expired']);
    expect(server.sessions).toEqual([]);
  });

  it('frees a WHEP viewer whose player vanished, removing it from the fan-out', async () => {
    const fan = await fanOut();
    const server = new WhepServer({ source: fan, inactivityTimeout: 2000 });
    open.push(server);
    const ended: HttpSessionEndReason[] = [];
    server.on('sessionclose', (_session, reason) => ended.push(reason));
    const url = await server.listen();
    const client = new WhepClient(url);
    const player = await client.play();
    await until(() => player.connectionState === 'connected' && server.sessions[0]?.webrtcbin.connectionState === 'connected', 'the player connects');
    // The player's machine goes away: its WebRtcBin stops without DELETE.
    player.close();
    await until(() => ended.length === 1, 'the server frees the vanished viewer', 20_000);
    expect(['expired', 'failed']).toContain(ended[0]);
    await until(() => fan.viewers.length === 0, 'the fan-out viewer is removed');
    expect(server.sessions).toEqual([]);
  });
});
