// WHIP (RFC 9725): our WhipClient publishing to our WhipServer over loopback,
// with real webrtcbins on both sides and the media decoded by the server.
import { afterEach, describe, expect, it } from 'vitest';

import { MediaFanOut, WhipClient, WhipServer, type HttpSession, type Track } from '../lib/index.js';
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

/** A WhipServer that decodes every published track into `<kind>-out` sinks of its session's pipeline. */
async function decodingServer(options: ConstructorParameters<typeof WhipServer>[0] = {}) {
  const server = new WhipServer(options);
  open.push(server);
  const tracks: { track: Track; session: HttpSession }[] = [];
  server.on('track', (track, session) => {
    tracks.push({ track, session });
    track.link(`${DECODERS[track.encodingName]} ! fakesink name=${track.kind}-out sync=false async=false`);
  });
  const url = await server.listen();
  const frames = (session: HttpSession, kind: 'video' | 'audio') => (session.webrtcbin.closed ? 0 : rendered(session.webrtcbin.pipeline, `${kind}-out`));
  return { server, url, tracks, frames };
}

async function startedFanOut(): Promise<MediaFanOut> {
  const fan = new MediaFanOut({ video: { source: TEST_VIDEO }, audio: { source: TEST_AUDIO } });
  open.push(fan);
  await fan.start();
  return fan;
}

describe('WHIP', () => {
  for (const trickle of [true, false, 'auto'] as const) {
    it(`publishes a MediaFanOut to our WhipServer, decoded there (trickle: ${trickle})`, async () => {
      const { server, url, frames, tracks } = await decodingServer();
      const fan = await startedFanOut();
      const client = new WhipClient(url, { trickle });
      open.push(client);
      const patches: number[] = [];
      client.on('tricklefallback', () => patches.push(-1));
      await client.publish(fan);
      expect(client.resourceUrl).toMatch(new RegExp(`^${url}/[0-9a-f-]{36}$`));
      expect(client.etag).toMatch(/^".+"$/);
      expect(client.trickling).toBe(trickle !== false);
      const [session] = server.sessions;
      expect(session.url).toBe(client.resourceUrl);
      await until(() => frames(session, 'video') >= 15 && frames(session, 'audio') >= 15, 'the server decodes video and audio');
      expect(tracks.map(({ track }) => track.encodingName).sort()).toEqual(['H264', 'OPUS']);
      expect(patches).toEqual([]);

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
