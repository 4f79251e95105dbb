// WHEP: our WhepClient playing from our WhepServer over loopback; every viewer
// gets the one encode of a MediaFanOut, decoded by the client.
import { afterEach, describe, expect, it } from 'vitest';

import { MediaFanOut, RtspBridge, WhepClient, WhepServer, type Track, type WebRtcBin } from '../lib/index.js';
import { startCoturn } from './support/coturn.js';
import { rendered } from './support/media.js';
import { startRtspServer } from './support/rtsp-server.js';
import { until } from './support/wait.js';
import { nativePipeline } from '../lib/core/pipeline-handle.js';

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

async function whepServer() {
  const fan = new MediaFanOut({ video: { source: TEST_VIDEO }, audio: { source: TEST_AUDIO } });
  open.push(fan);
  await fan.start();
  const server = new WhepServer({ source: fan });
  open.push(server);
  const url = await server.listen();
  return { fan, server, url };
}

/** A WhepClient that decodes what it receives into `<kind>-out` sinks. */
function decodingClient(url: string, options: ConstructorParameters<typeof WhepClient>[1] = {}) {
  const client = new WhepClient(url, options);
  open.push(client);
  const tracks: Track[] = [];
  client.on('track', (track) => {
    tracks.push(track);
    track.link(`${DECODERS[track.encodingName]} ! fakesink name=${track.kind}-out sync=false async=false`);
  });
  const frames = (webrtcbin: WebRtcBin, kind: 'video' | 'audio') => (webrtcbin.closed ? 0 : rendered(webrtcbin.pipeline, `${kind}-out`));
  return { client, tracks, frames };
}

describe('WHEP', () => {
  for (const trickle of [true, false] as const) {
    it(`plays a MediaFanOut from our WhepServer, H.264 and Opus decoded (trickle: ${trickle})`, async () => {
      const { fan, server, url } = await whepServer();
      const { client, tracks, frames } = decodingClient(url, { trickle });
      const webrtcbin = await client.play();
      expect(client.resourceUrl).toMatch(new RegExp(`^${url}/[0-9a-f-]{36}$`));
      expect(client.trickling).toBe(trickle);
      await until(() => frames(webrtcbin, 'video') >= 15 && frames(webrtcbin, 'audio') >= 15, 'the client decodes video and audio');
      expect(tracks.map((track) => track.encodingName).sort()).toEqual(['H264', 'OPUS']);
      expect(fan.viewers.length).toBe(1);
      await client.close();
      expect(server.sessions).toEqual([]);
      await until(() => fan.viewers.length === 0, 'the viewer is removed from the fan-out');
      expect(webrtcbin.closed).toBe(true);
    });
  }

  it('a relay-only WhepClient uses the TURN server (and credentials) announced in Link headers', async () => {
    const coturn = await startCoturn();
    open.push({ close: () => coturn.stop() });
    // coturn relays on 127.0.0.1 only, so the server side is relay-only too (as in test/turn.test.ts).
    const fan = new MediaFanOut({ video: { source: TEST_VIDEO }, iceServers: [coturn.iceServer], iceTransportPolicy: 'relay' });
    open.push(fan);
    await fan.start();
    const server = new WhepServer({ source: fan, iceServers: [coturn.iceServer] });
    open.push(server);
    const url = await server.listen();
    // No ICE servers of its own, and relay only: it can only connect through what the server announces.
    const { client, frames } = decodingClient(url, { webrtcbin: { iceTransportPolicy: 'relay' } });
    const webrtcbin = await client.play({ audio: false });
    expect(client.iceServers).toEqual([coturn.iceServer]);
    await until(() => frames(webrtcbin, 'video') >= 15, 'the client decodes through the relay', 20_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${coturn.log()}`);
    });
    const offer = webrtcbin.localDescription!.sdp;
    const candidates = offer.split('\r\n').filter((line) => line.startsWith('a=candidate:'));
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.every((line) => / typ relay /.test(line))).toBe(true);
  });

  it('serves an RTSP camera through an RtspBridge: the camera\'s H.264, never re-encoded', async () => {
    const camera = await startRtspServer();
    open.push({ close: () => camera.stop() });
    const bridge = new RtspBridge({ url: camera.url });
    open.push(bridge);
    await bridge.start();
    const server = new WhepServer({ source: bridge });
    open.push(server);
    const url = await server.listen();
    const { client, tracks, frames } = decodingClient(url);
    const webrtcbin = await client.play();
    await until(() => frames(webrtcbin, 'video') >= 15, 'the client decodes the camera');
    expect(tracks.map((track) => track.encodingName)).toEqual(['H264']);
    const native = nativePipeline(bridge.fanOut.pipeline);
    expect(native.elementsByFactory('x264enc').length + native.elementsByFactory('avdec_h264').length).toBe(0);
  });

  it('serves several players from the one encode', async () => {
    const { fan, url } = await whepServer();
    const players = [decodingClient(url), decodingClient(url), decodingClient(url)];
    const bins = await Promise.all(players.map((player) => player.client.play()));
    await until(() => players.every((player, i) => player.frames(bins[i], 'video') >= 10), 'every player decodes');
    expect(fan.viewers.length).toBe(3);
    expect(nativePipeline(fan.pipeline).elementsByFactory('x264enc').length + nativePipeline(fan.pipeline).elementsByFactory('openh264enc').length).toBe(1);
  });
});
