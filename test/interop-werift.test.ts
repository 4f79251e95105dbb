// Interop with werift, an independent WebRTC stack in pure TypeScript: real ICE, DTLS and SRTP on loopback.
import { createSocket } from 'node:dgram';
import { once } from 'node:events';

import { afterEach, describe, expect, it } from 'vitest';
import { MediaStreamTrack, type RTCPeerConnection, type RtpPacket } from 'werift';

import { PeerConnector, Pipeline, type SessionPayload, type Track, WebRtcBin } from '../lib/index.js';
import { OPUS_SOURCE, rendered, VP8_SOURCE } from './support/media.js';
import { nextEvent, until } from './support/wait.js';
import { createWeriftPeer, startLoopbackStunServer, WeriftSignaller } from './support/werift.js';
import { opusPacketSamples, readVp8FrameStart } from './support/werift-rtp.js';

const open: { close(): void | Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

/** In-process signalling between a WebRtcBin (through a PeerConnector) and werift, recording what each side sent. */
function signal(webrtcbin: WebRtcBin, werift: RTCPeerConnection, offerer: 'webrtcbin' | 'werift') {
  const toWerift: SessionPayload[] = [];
  const toWebRtcBin: SessionPayload[] = [];
  let weriftSide!: WeriftSignaller;
  const connector = new PeerConnector(webrtcbin, {
    role: offerer === 'webrtcbin' ? 'offerer' : 'answerer',
    send: (message) => {
      toWerift.push(message);
      void weriftSide.handle(message);
    },
  });
  weriftSide = new WeriftSignaller(werift, (message) => {
    toWebRtcBin.push(message);
    void connector.handle(message);
  });
  const connectorErrors: Error[] = [];
  connector.on('error', (error) => connectorErrors.push(error));
  open.push(connector, weriftSide);
  if (offerer === 'werift') void weriftSide.offer();
  return { toWerift, toWebRtcBin, errors: () => [...connectorErrors, ...weriftSide.errors] };
}

/** Resolves once both peers report connectionState 'connected'. Call before signalling starts. */
function bothConnected(webrtcbin: WebRtcBin, werift: RTCPeerConnection): Promise<unknown> {
  return Promise.all([
    nextEvent(webrtcbin, 'connectionstatechange', (state) => state === 'connected'),
    werift.connectionStateChange.watch((state) => state === 'connected', 20_000),
  ]);
}

/** Both sides trickled candidates and ended them with a null candidate. */
function expectTrickleBothWays(signalling: { toWerift: SessionPayload[]; toWebRtcBin: SessionPayload[] }): void {
  for (const messages of [signalling.toWerift, signalling.toWebRtcBin]) {
    const candidates = messages.flatMap((m) => (m.type === 'ice' ? [m.candidate] : []));
    expect(candidates.filter((c) => c !== null).length).toBeGreaterThan(0);
    expect(candidates.at(-1)).toBeNull();
  }
}

/** Collects the errors and warnings of a pipeline's bus. */
function busProblems(pipeline: Pipeline): Error[] {
  const problems: Error[] = [];
  pipeline.on('error', (error) => problems.push(error));
  pipeline.on('warning', (warning) => problems.push(warning));
  return problems;
}

function weriftPeer(stunUrl: string): RTCPeerConnection {
  const werift = createWeriftPeer(stunUrl);
  open.push({ close: () => werift.close() });
  return werift;
}

describe('interop with werift', () => {
  it('a WebRtcBin offers and sends VP8; werift answers and receives VP8 keyframes', async () => {
    const stun = await startLoopbackStunServer();
    open.push(stun);
    const webrtcbin = new WebRtcBin();
    open.push(webrtcbin);
    const problems = busProblems(webrtcbin.pipeline);
    const werift = weriftPeer(stun.url);
    webrtcbin.addTrack(VP8_SOURCE);

    const packets: RtpPacket[] = [];
    const received: MediaStreamTrack[] = [];
    werift.onTrack.subscribe((track) => {
      received.push(track);
      track.onReceiveRtp.subscribe((rtp) => packets.push(rtp));
    });
    const connected = bothConnected(webrtcbin, werift);
    const signalling = signal(webrtcbin, werift, 'webrtcbin');
    await connected;
    expect(webrtcbin.connectionState).toBe('connected');
    expect(werift.connectionState).toBe('connected');

    const keyframe = () => packets.map((p) => readVp8FrameStart(p.payload)).find((frame) => frame?.keyframe);
    await until(() => keyframe() !== undefined, 'werift receives a VP8 keyframe');
    expect(keyframe()).toEqual({ keyframe: true, startCode: true, width: 320, height: 240 });

    expect(received.map((track) => [track.kind, track.codec?.mimeType.toUpperCase(), track.codec?.payloadType])).toEqual([['video', 'VIDEO/VP8', 96]]);
    const offeredSsrc = Number(/a=ssrc:(\d+) /.exec(webrtcbin.localDescription!.sdp)?.[1]);
    for (const packet of packets) {
      expect(packet.header.payloadType).toBe(96);
      expect(packet.header.ssrc).toBe(offeredSsrc);
    }
    expectTrickleBothWays(signalling);
    expect(signalling.errors()).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('werift offers and sends VP8; a WebRtcBin answers and decodes the frames', async () => {
    const stun = await startLoopbackStunServer();
    open.push(stun);
    const webrtcbin = new WebRtcBin({ latency: 50 });
    open.push(webrtcbin);
    const problems = busProblems(webrtcbin.pipeline);
    const werift = weriftPeer(stun.url);

    // werift sends what it is given: real VP8 RTP from a pipeline of ours, over a loopback UDP socket.
    const video = new MediaStreamTrack({ kind: 'video' });
    werift.addTransceiver(video, { direction: 'sendonly' });
    const rtpIn = createSocket('udp4');
    open.push({ close: () => void rtpIn.close() });
    rtpIn.on('message', (packet) => video.writeRtp(packet));
    rtpIn.bind(0, '127.0.0.1');
    await once(rtpIn, 'listening');

    const tracks: Track[] = [];
    webrtcbin.on('track', (track) => {
      tracks.push(track);
      track.link('rtpvp8depay ! vp8dec ! fakesink name=out');
    });
    const connected = bothConnected(webrtcbin, werift);
    const signalling = signal(webrtcbin, werift, 'werift');
    await connected;
    expect(webrtcbin.connectionState).toBe('connected');
    expect(werift.connectionState).toBe('connected');

    // Started once connected (werift drops what it is given before), so the first frame is a keyframe.
    const source = new Pipeline(
      'videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! ' +
        `vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96 mtu=1200 ! udpsink host=127.0.0.1 port=${rtpIn.address().port} sync=false`,
    );
    open.push(source);
    await source.play();
    await until(() => rendered(webrtcbin.pipeline, 'out') >= 10, 'frames from werift are decoded');

    const offeredPayloadType = Number(/a=rtpmap:(\d+) VP8\/90000/i.exec(webrtcbin.remoteDescription!.sdp)?.[1]);
    expect(tracks.map((track) => [track.kind, track.encodingName, track.payloadType])).toEqual([['video', 'VP8', offeredPayloadType]]);
    const [transceiver] = webrtcbin.getTransceivers();
    expect(transceiver.currentDirection).toBe('recvonly');
    expectTrickleBothWays(signalling);
    expect(signalling.errors()).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('a WebRtcBin sends VP8 and Opus bundled on one transport; werift receives each on its own track', async () => {
    const stun = await startLoopbackStunServer();
    open.push(stun);
    const webrtcbin = new WebRtcBin();
    open.push(webrtcbin);
    const problems = busProblems(webrtcbin.pipeline);
    const werift = weriftPeer(stun.url);
    webrtcbin.addTrack(VP8_SOURCE);
    webrtcbin.addTrack(OPUS_SOURCE);

    const packets = { audio: [] as RtpPacket[], video: [] as RtpPacket[] };
    const codecs: string[] = [];
    werift.onTrack.subscribe((track) => {
      codecs.push(`${track.kind} ${track.codec?.mimeType.toUpperCase()} ${track.codec?.payloadType}`);
      const kind = track.kind === 'audio' ? 'audio' : 'video';
      track.onReceiveRtp.subscribe((rtp) => packets[kind].push(rtp));
    });
    const connected = bothConnected(webrtcbin, werift);
    const signalling = signal(webrtcbin, werift, 'webrtcbin');
    await connected;
    await until(() => packets.audio.length >= 50 && packets.video.some((p) => readVp8FrameStart(p.payload)?.keyframe), 'werift receives Opus and a VP8 keyframe');

    // One offer: a second, needless one (webrtcbin's request from before the first) made werift add both tracks again.
    expect(signalling.toWerift.filter((message) => message.type === 'sdp')).toHaveLength(1);
    expect(codecs.sort()).toEqual(['audio AUDIO/OPUS 111', 'video VIDEO/VP8 96']);
    expect(werift.getTransceivers().length).toBe(2);
    expect(werift.dtlsTransports.length).toBe(1); // one transport for both under BUNDLE
    expect(new Set(packets.video.map((p) => p.header.payloadType))).toEqual(new Set([96]));
    expect(new Set(packets.audio.map((p) => p.header.payloadType))).toEqual(new Set([111]));

    // Real Opus: each packet holds as much audio as the RTP timestamp advances to the next one
    // (from the second packet on: the encoder's first timestamp is offset by its lookahead).
    const audio = packets.audio.slice(1, 50);
    let compared = 0;
    for (let i = 1; i < audio.length; i++) {
      const [previous, current] = [audio[i - 1], audio[i]];
      if (current.header.sequenceNumber !== ((previous.header.sequenceNumber + 1) & 0xffff)) continue; // a lost packet
      expect(opusPacketSamples(previous.payload)).toBe((current.header.timestamp - previous.header.timestamp) >>> 0);
      compared++;
    }
    expect(compared).toBeGreaterThan(0);
    expect(signalling.errors()).toEqual([]);
    expect(problems).toEqual([]);
  });
});
