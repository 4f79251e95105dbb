// WHIP (RFC 9725): our WhipClient publishing to our WhipServer over loopback,
// with real webrtcbins on both sides and the media decoded by the server.
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';

import { MediaFanOut, Pipeline, WhipClient, WhipServer, type HttpSession, type Track } from '../lib/index.js';
import { rendered } from './support/media.js';
import { until } from './support/wait.js';

const TEST_VIDEO = 'videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1';
const TEST_AUDIO = 'audiotestsrc is-live=true wave=sine';

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

const DECODERS: Record<string, string> = {
  H264: 'rtph264depay ! avdec_h264 output-corrupt=false',
  VP8: 'rtpvp8depay ! vp8dec',
  OPUS: 'rtpopusdepay ! opusdec',
};

/**
 * A WhipServer that decodes every published track into `<kind>-out` sinks of its
 * session's pipeline, on an http.Server that also logs each request's method.
 */
async function decodingServer(options: ConstructorParameters<typeof WhipServer>[0] = {}) {
  const server = new WhipServer(options);
  open.push(server);
  const http = createServer();
  open.push({ close: () => new Promise((resolve) => (http.closeAllConnections(), http.close(resolve))) });
  const requests: string[] = [];
  server.attach(http);
  http.prependListener('request', (request) => requests.push(request.method ?? ''));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const tracks: { track: Track; session: HttpSession }[] = [];
  server.on('track', (track, session) => {
    tracks.push({ track, session });
    track.link(`${DECODERS[track.encodingName]} ! fakesink name=${track.kind}-out sync=false async=false`);
  });
  const url = `http://127.0.0.1:${(http.address() as { port: number }).port}/whip`;
  const frames = (session: HttpSession, kind: 'video' | 'audio') => (session.webrtcbin.closed ? 0 : rendered(session.webrtcbin.pipeline, `${kind}-out`));
  return { server, url, tracks, frames, requests };
}

async function startedFanOut(): Promise<MediaFanOut> {
  const fan = new MediaFanOut({ video: { source: TEST_VIDEO }, audio: { source: TEST_AUDIO } });
  open.push(fan);
  await fan.start();
  return fan;
}

describe('WHIP', () => {
  it('publishes a WebRtcBin inside a pipeline of ours (a pipeline branch)', async () => {
    const { server, url, frames } = await decodingServer();
    const pipeline = new Pipeline(
      `${TEST_VIDEO} ! vp8enc deadline=1 ! rtpvp8pay pt=96 ! sender.  audiotestsrc is-live=true ! audioconvert ! audioresample ! opusenc ! rtpopuspay pt=111 ! sender.  webrtcbin name=sender bundle-policy=max-bundle`,
    );
    open.push(pipeline);
    const webrtcbin = pipeline.getWebRtcBin('sender')!;
    await pipeline.play();
    const client = new WhipClient(url);
    open.push(client);
    expect(await client.publish(webrtcbin)).toBe(webrtcbin);
    const [session] = server.sessions;
    await until(() => frames(session, 'video') >= 15 && frames(session, 'audio') >= 15, 'the server decodes VP8 and Opus');
    await client.close();
    expect(server.sessions).toEqual([]);
    // Ours stays ours: close() ended the session, not our pipeline.
    expect(webrtcbin.closed).toBe(false);
  });


  for (const trickle of [true, false, 'auto'] as const) {
    it(`publishes a MediaFanOut to our WhipServer, decoded there (trickle: ${trickle})`, async () => {
      const { server, url, frames, tracks, requests } = await decodingServer();
      const fan = await startedFanOut();
      const client = new WhipClient(url, { trickle });
      open.push(client);
      const fallbacks: string[] = [];
      client.on('tricklefallback', (reason) => fallbacks.push(reason));
      await client.publish(fan);
      expect(client.resourceUrl).toMatch(new RegExp(`^${url}/[0-9a-f-]{36}$`));
      expect(client.etag).toMatch(/^".+"$/);
      expect(client.trickling).toBe(trickle !== false);
      const [session] = server.sessions;
      expect(session.url).toBe(client.resourceUrl);
      await until(() => frames(session, 'video') >= 15 && frames(session, 'audio') >= 15, 'the server decodes video and audio');
      expect(tracks.map(({ track }) => track.encodingName).sort()).toEqual(['H264', 'OPUS']);
      expect(fallbacks).toEqual([]);
      // What went over HTTP: candidates in the offer unless trickle is true; PATCHes (with the end of candidates) unless it is false.
      const offer = session.webrtcbin.remoteDescription!.sdp;
      const patches = () => requests.filter((method) => method === 'PATCH').length;
      if (trickle === true) expect(offer).not.toMatch(/\r\na=candidate:/);
      else expect(offer).toMatch(/\r\na=candidate:/);
      if (trickle === false) expect(patches()).toBe(0);
      else await until(() => patches() > 0, 'candidates or their end are PATCHed');
      expect(requests.slice(0, 2)).toEqual(['OPTIONS', 'POST']);

      const closed: string[] = [];
      server.on('sessionclose', (_session, reason) => closed.push(reason));
      const viewersBefore = fan.viewers.length;
      await client.close();
      expect(closed).toEqual(['deleted']);
      expect(server.sessions).toEqual([]);
      expect(session.webrtcbin.closed).toBe(true);
      expect(fan.viewers.length).toBe(viewersBefore - 1);
    });
  }
});
