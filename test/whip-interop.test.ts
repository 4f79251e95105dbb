// WHIP interop beyond our own pair: our WhipClient publishing to an independent
// WHIP endpoint built here on werift (relative Location, a 307 redirect, TURN
// credentials in Link, PATCH refused with 405), a client that behaves like OBS
// publishing to our WhipServer, and the client's typed errors.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { RTCRtpCodecParameters, type RTCPeerConnection } from 'werift';

import { MediaFanOut, WebRtcBin, WhipClient, WhipError, WhipServer } from '../lib/index.js';
import { rendered, OPUS_SOURCE } from './support/media.js';
import { until } from './support/wait.js';
import { createWeriftPeer, startLoopbackStunServer } from './support/werift.js';

const TEST_VIDEO = 'videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1';
const TEST_AUDIO = 'audiotestsrc is-live=true wave=sine';

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function listen(server: Server): Promise<string> {
  open.push({ close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => resolve(body));
  });
}

describe('WHIP interop', () => {
  it('publishes to an independent WHIP endpoint on werift: 307 followed, relative Location, Link TURN credentials, PATCH 405 tolerated, DELETE on close', async () => {
    const stun = await startLoopbackStunServer();
    open.push(stun);
    const seen: string[] = [];
    const authorizations: (string | undefined)[] = [];
    let peer: RTCPeerConnection | undefined;
    const packets: Record<string, number> = {};
    const server = createServer((request, response) => void endpoint(request, response).catch((error: Error) => response.writeHead(500).end(error.message)));
    const endpoint = async (request: IncomingMessage, response: ServerResponse) => {
      seen.push(`${request.method} ${request.url}`);
      if (request.url === '/start') {
        response.writeHead(307, { location: '/whip/endpoint' }).end();
        return;
      }
      if (request.method === 'POST' && request.url === '/whip/endpoint') {
        authorizations.push(request.headers.authorization);
        const offer = await readBody(request);
        if (request.headers['content-type'] !== 'application/sdp') return void response.writeHead(415).end();
        peer = createWeriftPeer(stun.url, {
          codecs: {
            video: [new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1' })],
            audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
          },
        });
        peer.onTrack.subscribe((track) => track.onReceiveRtp.subscribe(() => (packets[track.kind] = (packets[track.kind] ?? 0) + 1)));
        await peer.setRemoteDescription({ type: 'offer', sdp: offer });
        await peer.setLocalDescription(await peer.createAnswer());
        response.writeHead(201, {
          'Content-Type': 'application/sdp',
          Location: 'resources/1',
          'Accept-Patch': 'application/trickle-ice-sdpfrag',
          Link: ['<stun:127.0.0.1:3478>; rel="ice-server"', '<turn:127.0.0.1:3478?transport=udp>; rel="ice-server"; username="u1"; credential="c,2;x"; credential-type="password"'].join(', '),
        });
        response.end(peer.localDescription!.sdp);
        return;
      }
      if (request.method === 'PATCH') return void response.writeHead(405, { allow: 'DELETE' }).end();
      if (request.method === 'DELETE' && request.url === '/whip/resources/1') {
        await peer?.close();
        return void response.writeHead(200).end();
      }
      response.writeHead(404).end();
    };
    const base = await listen(server);
    open.push({ close: () => peer?.close() });

    const fan = new MediaFanOut({ video: { source: TEST_VIDEO }, audio: { source: TEST_AUDIO } });
    open.push(fan);
    await fan.start();
    const client = new WhipClient(`${base}/start`, { token: 'tok', trickle: true });
    open.push(client);
    const fallbacks: string[] = [];
    client.on('tricklefallback', (reason) => fallbacks.push(reason));
    await client.publish(fan);
    expect(client.resourceUrl).toBe(`${base}/whip/resources/1`);
    expect(client.iceServers).toEqual([
      { urls: 'stun:127.0.0.1:3478' },
      { urls: 'turn:127.0.0.1:3478?transport=udp', username: 'u1', credential: 'c,2;x' },
    ]);
    await until(() => (packets.video ?? 0) >= 30 && (packets.audio ?? 0) >= 30, 'werift receives video and audio RTP');
    await until(() => fallbacks.length > 0, 'the client falls back after the 405');
    expect(fallbacks).toEqual(['the server answered 405 to PATCH']);
    expect(client.trickling).toBe(false);
    expect(authorizations).toEqual(['Bearer tok']);
    await client.close();
    // OPTIONS first (ICE server discovery; this endpoint has none), then the offer.
    expect(seen.filter((line) => !line.startsWith('PATCH'))).toEqual(['OPTIONS /start', 'OPTIONS /whip/endpoint', 'POST /start', 'POST /whip/endpoint', 'DELETE /whip/resources/1']);
    expect(seen.filter((line) => line.startsWith('PATCH')).every((line) => line === 'PATCH /whip/resources/1')).toBe(true);
  });

  it('a client that behaves like OBS (waits for gathering, reads Location, never PATCHes) publishes to our WhipServer', async () => {
    const server = new WhipServer();
    open.push(server);
    const methods: string[] = [];
    server.on('session', () => methods.push('session'));
    server.on('track', (track) => track.link(`${track.encodingName === 'H264' ? 'rtph264depay ! avdec_h264' : 'rtpopusdepay ! opusdec'} ! fakesink name=${track.kind}-out sync=false async=false`));
    const url = await server.listen();

    // OBS sends H.264 (constrained baseline) and Opus, and puts every candidate in its offer.
    const obs = new WebRtcBin({ bundlePolicy: 'max-bundle' });
    open.push(obs);
    obs.addTrack(`${TEST_VIDEO} ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! video/x-h264,profile=constrained-baseline ! rtph264pay config-interval=-1 pt=102`);
    obs.addTrack(OPUS_SOURCE);
    const offer = await obs.createOffer();
    await obs.setLocalDescription(offer);
    await until(() => obs.iceGatheringState === 'complete', 'the OBS stand-in gathers every candidate');
    const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: obs.localDescription!.sdp });
    expect(response.status).toBe(201);
    const location = response.headers.get('Location')!;
    expect(new URL(location).href).toBe(location); // absolute
    const answer = await response.text();
    expect(answer.split('\r\nm=')[0]).toMatch(/a=ice-ufrag:/);
    await obs.setRemoteDescription({ type: 'answer', sdp: answer });
    const [session] = server.sessions;
    await until(() => rendered(session.webrtcbin.pipeline, 'video-out') >= 15 && rendered(session.webrtcbin.pipeline, 'audio-out') >= 15, 'the server decodes what OBS sends');
    expect((await fetch(location, { method: 'DELETE' })).status).toBe(200);
    expect(server.sessions).toEqual([]);
    expect(methods).toEqual(['session']);
  });

  it('fails with a WhipError naming the status and the server reason, or the timeout', async () => {
    const fan = new MediaFanOut({ video: { source: TEST_VIDEO } });
    open.push(fan);
    await fan.start();
    const server = createServer(async (request, response) => {
      await readBody(request);
      if (request.url === '/forbidden') return void response.writeHead(403, { 'content-type': 'text/plain' }).end('stream key unknown');
      if (request.url === '/moved') return void response.writeHead(301, { location: '/forbidden' }).end();
      if (request.url === '/json') return void response.writeHead(201, { 'content-type': 'application/json', location: '/x' }).end('{}');
      if (request.url === '/garbage') return void response.writeHead(201, { 'content-type': 'application/sdp', location: '/x' }).end('v=0\r\nthis is not SDP\r\n');
      if (request.url === '/x') return void response.writeHead(200).end(); // the DELETE of the refused /garbage session
      // /silent: never answers
    });
    const base = await listen(server);
    const attempt = async (path: string, options = {}) => {
      const client = new WhipClient(`${base}${path}`, options);
      open.push(client);
      return client.publish(fan).then(
        () => null,
        (error: unknown) => error,
      );
    };
    const forbidden = await attempt('/forbidden');
    expect(forbidden).toBeInstanceOf(WhipError);
    expect(forbidden).toMatchObject({ kind: 'http', status: 403, reason: 'stream key unknown', method: 'POST' });
    expect((forbidden as Error).message).toBe(`WHIP POST ${base}/forbidden answered 403: stream key unknown`);
    expect(await attempt('/moved')).toMatchObject({ kind: 'http', status: 301, reason: expect.stringMatching(/only 307 and 308 are followed/) });
    expect(await attempt('/json')).toMatchObject({ kind: 'protocol', status: 201, reason: expect.stringMatching(/not application\/sdp/) });
    expect(await attempt('/garbage')).toMatchObject({ kind: 'protocol', status: 201, reason: expect.stringMatching(/the answer was refused: malformed SDP line/) });
    expect(await attempt('/silent', { timeout: 500 })).toMatchObject({ kind: 'timeout', status: null, reason: 'no answer within 500 ms' });
    // A port nobody listens on (any more).
    const closed = createServer();
    const closedBase = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const refused = new WhipClient(`${closedBase}/whip`);
    open.push(refused);
    expect(await refused.publish(fan).catch((error: unknown) => error)).toMatchObject({ kind: 'network', reason: 'ECONNREFUSED' });
    // Each failed publish removed its viewer again.
    await until(() => fan.viewers.length === 0, 'the failed publishes leave no viewer');
    expect(() => new WhipClient('ftp://x/y')).toThrow(TypeError);
    expect(() => new WhipClient('http://x/y', { trickle: 'yes' as never })).toThrow(TypeError);
  });
});
