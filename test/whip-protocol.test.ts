// The WHIP/WHEP server side of the protocol, spoken with plain fetch as other
// clients speak it: headers, statuses, trickle PATCH rules, limits, auth, CORS,
// and every malformed request refused with its 4xx and a reason, never a crash
// or a leaked session.
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';

import {
  buildTrickleFragment,
  iceServersFromLinkHeaders,
  iceServersToLinkHeaders,
  MediaFanOut,
  parseTrickleFragment,
  WebRtcBin,
  WhepServer,
  WhipServer,
  type SessionDescription,
} from '../lib/index.js';

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

/** A browser-like offer: sendonly (WHIP) or recvonly (WHEP) video and audio. */
async function makeOffer(direction: 'sendonly' | 'recvonly'): Promise<SessionDescription> {
  const webrtcbin = new WebRtcBin({ bundlePolicy: 'max-bundle' });
  open.push(webrtcbin);
  webrtcbin.addTransceiver('video', { direction });
  webrtcbin.addTransceiver('audio', { direction });
  return webrtcbin.createOffer();
}

async function whipServer(options: ConstructorParameters<typeof WhipServer>[0] = {}) {
  const server = new WhipServer(options);
  open.push(server);
  return { server, url: await server.listen() };
}

async function post(url: string, body: string, headers: Record<string, string> = { 'content-type': 'application/sdp' }) {
  const response = await fetch(url, { method: 'POST', headers, body });
  return { response, text: await response.text() };
}

describe('WHIP server protocol', () => {
  it('answers 201 with an absolute Location, an ETag, Accept-Patch, Link and an SDP with session-level ICE credentials', async () => {
    const iceServers = [{ urls: 'stun:127.0.0.1:3478' }, { urls: 'turn:127.0.0.1:3478?transport=udp', username: 'user', credential: 'p"ss' }];
    const { server, url } = await whipServer({ iceServers });
    const offer = await makeOffer('sendonly');
    const { response, text } = await post(url, offer.sdp);
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/sdp');
    expect(response.headers.get('location')).toMatch(new RegExp(`^${url}/[0-9a-f-]{36}$`));
    expect(response.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(response.headers.get('accept-patch')).toBe('application/trickle-ice-sdpfrag');
    expect(response.headers.get('link')).toBe(
      '<stun:127.0.0.1:3478>; rel="ice-server", <turn:127.0.0.1:3478?transport=udp>; rel="ice-server"; username="user"; credential="p\\"ss"; credential-type="password"',
    );
    expect(response.headers.get('access-control-expose-headers')).toContain('Location');
    const session = text.split('\r\nm=')[0];
    expect(session).toMatch(/\r\na=ice-ufrag:\S+\r\n/);
    expect(session).toMatch(/\r\na=ice-pwd:\S+\r\n/);
    expect(text).toMatch(/\r\na=candidate:/);
    expect(server.sessions.map((s) => s.url)).toEqual([response.headers.get('location')]);
  });

  it('answers OPTIONS with Accept-Post, the ICE servers and CORS; a CORS preflight gets no ICE servers', async () => {
    const { url } = await whipServer({ iceServers: [{ urls: 'stun:127.0.0.1:3478' }] });
    const plain = await fetch(url, { method: 'OPTIONS' });
    expect(plain.status).toBe(204);
    expect(plain.headers.get('accept-post')).toBe('application/sdp');
    expect(plain.headers.get('link')).toBe('<stun:127.0.0.1:3478>; rel="ice-server"');
    expect(plain.headers.get('access-control-allow-origin')).toBe('*');
    const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: 'http://example.test', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('link')).toBeNull();
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization.*Content-Type.*If-Match/);
  });

  it('refuses bad POSTs with the right status and a reason, and keeps no session', async () => {
    const { server, url } = await whipServer({ maxBodyBytes: 4096 });
    const offer = await makeOffer('sendonly');
    const cases: [string, Promise<{ response: Response; text: string }>, number, RegExp][] = [
      ['wrong content type', post(url, offer.sdp, { 'content-type': 'application/json' }), 415, /application\/sdp/],
      ['no content type', post(url, offer.sdp, {}), 415, /application\/sdp/],
      ['empty body', post(url, ''), 400, /empty/],
      ['not SDP', post(url, 'hello'), 400, /malformed offer: not an SDP/],
      ['broken media line', post(url, 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video x\r\n'), 400, /malformed SDP media line/],
      ['no media', post(url, 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n'), 400, /no audio or video m-line/],
      ['oversize', post(url, offer.sdp + `a=x-padding:${'x'.repeat(5000)}\r\n`), 413, /larger than 4096 bytes/],
      ['JSON body', post(url, JSON.stringify(offer)), 400, /malformed offer/],
    ];
    for (const [what, pending, status, reason] of cases) {
      const { response, text } = await pending;
      expect({ what, status: response.status, text }).toMatchObject({ what, status, text: expect.stringMatching(reason) });
    }
    const get = await fetch(url);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('OPTIONS, POST');
    expect(server.sessions).toEqual([]);
    // Still serving.
    expect((await post(url, offer.sdp)).response.status).toBe(201);
  });

  it('refuses an oversize chunked body without reading all of it', async () => {
    const { server, url } = await whipServer({ maxBodyBytes: 1024 });
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/sdp', 'transfer-encoding': 'chunked' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.write('v=0\r\n');
      request.write('a=x:' + 'y'.repeat(2048) + '\r\n');
      // Never ends the body: the server answers anyway.
    });
    expect(status).toBe(413);
    expect(server.sessions).toEqual([]);
  });

  it('PATCH: trickle with If-Match, and 404, 415, 428, 412, 422 and 400 for what is wrong', async () => {
    const { server, url } = await whipServer();
    const offer = await makeOffer('sendonly');
    const { response } = await post(url, offer.sdp);
    const location = response.headers.get('location')!;
    const etag = response.headers.get('etag')!;
    const ufrag = /a=ice-ufrag:(\S+)/.exec(offer.sdp)![1];
    const pwd = /a=ice-pwd:(\S+)/.exec(offer.sdp)![1];
    const mid = /a=mid:(\S+)/.exec(offer.sdp)![1];
    const fragment = (candidates: string[], credentials = [ufrag, pwd]) =>
      `a=ice-ufrag:${credentials[0]}\r\na=ice-pwd:${credentials[1]}\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:${mid}\r\n${candidates.map((c) => `a=${c}\r\n`).join('')}a=end-of-candidates\r\n`;
    const patch = (target: string, body: string, headers: Record<string, string>) => fetch(target, { method: 'PATCH', headers, body });
    const sdpfrag = 'application/trickle-ice-sdpfrag';
    const good = fragment(['candidate:1 1 UDP 2122252543 127.0.0.1 40000 typ host']);

    const ok = await patch(location, good, { 'content-type': sdpfrag, 'if-match': etag });
    expect(ok.status).toBe(204);
    const cases: [string, Response, number, RegExp][] = [
      ['unknown session', await patch(`${url}/00000000-0000-0000-0000-000000000000`, good, { 'content-type': sdpfrag, 'if-match': etag }), 404, /no such session/],
      ['JSON body', await patch(location, '{"candidate":"x"}', { 'content-type': 'application/json', 'if-match': etag }), 415, /trickle-ice-sdpfrag/],
      ['no If-Match', await patch(location, good, { 'content-type': sdpfrag }), 428, /If-Match/],
      ['stale ETag', await patch(location, good, { 'content-type': sdpfrag, 'if-match': '"stale"' }), 412, /does not match/],
      ['ICE restart (If-Match: *)', await patch(location, fragment([], ['newufrag', 'newpassword1234567890ab']), { 'content-type': sdpfrag, 'if-match': '*' }), 422, /ICE restart is not supported/],
      ['new credentials', await patch(location, fragment([], ['newufrag', 'newpassword1234567890ab']), { 'content-type': sdpfrag, 'if-match': etag }), 422, /ICE restart/],
      ['malformed candidate', await patch(location, fragment(['candidate:garbage']), { 'content-type': sdpfrag, 'if-match': etag }), 400, /malformed ICE candidate/],
      ['unknown mid', await patch(location, good.replace(`a=mid:${mid}`, 'a=mid:nope'), { 'content-type': sdpfrag, 'if-match': etag }), 400, /not in the remote description/],
      ['not a fragment', await patch(location, 'hello', { 'content-type': sdpfrag, 'if-match': etag }), 400, /not an SDP fragment line/],
    ];
    for (const [what, result, status, reason] of cases) {
      expect({ what, status: result.status, text: await result.text() }).toMatchObject({ what, status, text: expect.stringMatching(reason) });
    }
    expect(server.sessions.length).toBe(1);
    const put = await fetch(location, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('OPTIONS, PATCH, DELETE');

    const deleted = await fetch(location, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(server.sessions).toEqual([]);
    expect((await fetch(location, { method: 'DELETE' })).status).toBe(404);
  });

  it('authorizes with a Bearer token or a callback (401 with WWW-Authenticate otherwise)', async () => {
    const offer = await makeOffer('sendonly');
    const { url } = await whipServer({ token: 's3cret' });
    expect((await post(url, offer.sdp)).response.status).toBe(401);
    const wrong = await post(url, offer.sdp, { 'content-type': 'application/sdp', authorization: 'Bearer nope' });
    expect(wrong.response.status).toBe(401);
    expect(wrong.response.headers.get('www-authenticate')).toBe('Bearer');
    expect(wrong.text).toMatch(/Bearer token/);
    const right = await post(url, offer.sdp, { 'content-type': 'application/sdp', authorization: 'Bearer s3cret' });
    expect(right.response.status).toBe(201);
    // DELETE needs the token too.
    const location = right.response.headers.get('location')!;
    expect((await fetch(location, { method: 'DELETE' })).status).toBe(401);
    expect((await fetch(location, { method: 'DELETE', headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);

    const seen: (string | null)[] = [];
    const callback = await whipServer({ authorize: (_request, token) => (seen.push(token), token === 'letmein') });
    expect((await post(callback.url, offer.sdp, { 'content-type': 'application/sdp', authorization: 'Bearer other' })).response.status).toBe(401);
    expect((await post(callback.url, offer.sdp, { 'content-type': 'application/sdp', authorization: 'bearer letmein' })).response.status).toBe(201);
    expect(seen).toEqual(['other', 'letmein']);
  });

  it('limits sessions: 503 with Retry-After at the limit, room again after a DELETE', async () => {
    const { url } = await whipServer({ maxSessions: 2 });
    const offer = await makeOffer('sendonly');
    const first = await post(url, offer.sdp);
    expect((await post(url, offer.sdp)).response.status).toBe(201);
    const refused = await post(url, offer.sdp);
    expect(refused.response.status).toBe(503);
    expect(refused.response.headers.get('retry-after')).toBe('10');
    expect(refused.text).toMatch(/limit of 2 sessions/);
    await fetch(first.response.headers.get('location')!, { method: 'DELETE' });
    expect((await post(url, offer.sdp)).response.status).toBe(201);
  });

  it('attaches to an existing http.Server and leaves its other requests alone', async () => {
    const { createServer } = await import('node:http');
    const http = createServer((_request, response) => response.end('app'));
    open.push({ close: () => new Promise((resolve) => http.close(resolve)) });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const whip = new WhipServer({ path: '/ingest/live' });
    open.push(whip);
    whip.attach(http);
    const base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
    expect(await (await fetch(`${base}/other`)).text()).toBe('app');
    const offer = await makeOffer('sendonly');
    const { response } = await post(`${base}/ingest/live`, offer.sdp);
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toMatch(new RegExp(`^${base}/ingest/live/`));
    await whip.close();
    expect(await (await fetch(`${base}/ingest/live`, { method: 'POST' })).text()).toBe('app');
  });
});

describe('Link headers and trickle fragments', () => {
  it('reads ICE servers from Link headers: quoted credentials, other relations skipped, round trip', () => {
    const header = [
      '<https://example.test/help>; rel="help"',
      '<stun:stun.example.test:3478>; rel=ice-server',
      '<turn:turn.example.test:3478?transport=udp>; rel="ice-server"; username="u\\"1"; credential="a,b;c"; credential-type="password"',
      '<turns:turn.example.test:5349?transport=tcp>; rel="ice-server"; username=plain; credential=token',
    ].join(', ');
    const servers = iceServersFromLinkHeaders(header.split(/,(?=\s*<)/));
    expect(servers).toEqual([
      { urls: 'stun:stun.example.test:3478' },
      { urls: 'turn:turn.example.test:3478?transport=udp', username: 'u"1', credential: 'a,b;c' },
      { urls: 'turns:turn.example.test:5349?transport=tcp', username: 'plain', credential: 'token' },
    ]);
    expect(iceServersFromLinkHeaders(iceServersToLinkHeaders(servers))).toEqual(servers);
  });

  it('builds and parses trickle fragments; a fragment that is not one is a TypeError', () => {
    const text = buildTrickleFragment('ufrag1', 'pwd1', [
      { mline: 'm=video 9 UDP/TLS/RTP/SAVPF 96', mid: 'v', candidates: ['candidate:1 1 UDP 1 127.0.0.1 5000 typ host'], endOfCandidates: true },
      { mline: 'm=audio 9 UDP/TLS/RTP/SAVPF 111', mid: null, candidates: ['a=candidate:2 1 UDP 1 127.0.0.1 5002 typ host'], endOfCandidates: false },
    ]);
    expect(text).toBe(
      'a=ice-ufrag:ufrag1\r\na=ice-pwd:pwd1\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v\r\na=candidate:1 1 UDP 1 127.0.0.1 5000 typ host\r\na=end-of-candidates\r\n' +
        'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=candidate:2 1 UDP 1 127.0.0.1 5002 typ host\r\n',
    );
    expect(parseTrickleFragment(text)).toEqual({
      iceUfrag: 'ufrag1',
      icePwd: 'pwd1',
      endOfCandidates: true,
      candidates: [
        { candidate: 'candidate:1 1 UDP 1 127.0.0.1 5000 typ host', sdpMid: 'v', sdpMLineIndex: undefined },
        { candidate: 'candidate:2 1 UDP 1 127.0.0.1 5002 typ host', sdpMLineIndex: 1 },
      ],
    });
    expect(() => parseTrickleFragment('{"candidate":"x"}')).toThrow(TypeError);
    expect(() => parseTrickleFragment('a=candidate:1 1 UDP 1 127.0.0.1 5000 typ host')).toThrow(/before any m-line/);
  });
});

describe('WHEP server protocol', () => {
  it("answers a browser-like offer with the offer's H.264, sendonly, with a=ssrc for BUNDLE demuxing", async () => {
    const fan = new MediaFanOut({ video: { source: 'videotestsrc is-live=true' } });
    open.push(fan);
    await fan.start();
    const server = new WhepServer({ source: fan });
    open.push(server);
    const url = await server.listen();
    // Chrome's order: VP8 first, then baseline H.264 with level asymmetry; audio too.
    const webrtcbin = new WebRtcBin({ bundlePolicy: 'max-bundle' });
    open.push(webrtcbin);
    webrtcbin.addTransceiver(
      'application/x-rtp, media=video, encoding-name=VP8, payload=96, clock-rate=90000; ' +
        'application/x-rtp, media=video, encoding-name=H264, payload=102, clock-rate=90000, packetization-mode=(string)1, profile-level-id=(string)42001f, level-asymmetry-allowed=(string)1',
      { direction: 'recvonly' },
    );
    webrtcbin.addTransceiver('audio', { direction: 'recvonly' });
    const offer = await webrtcbin.createOffer();
    const { response, text } = await post(url, offer.sdp);
    expect(response.status).toBe(201);
    const [video, audio] = text.split(/\r\n(?=m=)/).slice(1);
    expect(video).toMatch(/^m=video \d+ UDP\/TLS\/RTP\/SAVPF 102\r\n/);
    expect(video).toMatch(/\r\na=rtpmap:102 H264\/90000\r\n/);
    expect(video).toMatch(/\r\na=fmtp:102 .*profile-level-id=42001f/);
    expect(video).toMatch(/\r\na=sendonly\r\n/);
    expect(video).toMatch(/\r\na=ssrc:\d+ cname:/);
    // Nothing to send for the audio it asked for: inactive, not refused.
    expect(audio).toMatch(/\r\na=inactive\r\n/);
  });

  it('refuses an offer without H.264 with 406 naming what was offered, and keeps no viewer', async () => {
    const fan = new MediaFanOut({ video: { source: 'videotestsrc is-live=true' } });
    open.push(fan);
    await fan.start();
    const server = new WhepServer({ source: fan });
    open.push(server);
    const url = await server.listen();
    const webrtcbin = new WebRtcBin();
    open.push(webrtcbin);
    webrtcbin.addTransceiver('application/x-rtp, media=video, encoding-name=VP8, payload=96, clock-rate=90000', { direction: 'recvonly' });
    const offer = await webrtcbin.createOffer();
    const { response, text } = await post(url, offer.sdp);
    expect(response.status).toBe(406);
    expect(text).toMatch(/no format for our video \(H264\); it offers VP8\/96/);
    expect(server.sessions).toEqual([]);
    expect(fan.viewers).toEqual([]);
  });
});
