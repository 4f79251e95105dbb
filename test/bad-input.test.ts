// Bad input to WebRtcBin: each case is a typed, readable error, and the object keeps working.
import { type AddressInfo, createServer, type Server } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { GstError, InvalidStateError, OperationError, PeerConnector, type Track, WebRtcBin } from '../lib/index.js';
import { rendered, VP8_SOURCE } from './support/media.js';
import { nextEvent, until } from './support/wait.js';

let a: WebRtcBin;
let b: WebRtcBin;
beforeEach(() => {
  a = new WebRtcBin();
  b = new WebRtcBin();
});
afterEach(() => {
  a.close();
  b.close();
});

/** A real offer from `a`, made when webrtcbin asks for it. */
async function realOffer() {
  a.addTrack(VP8_SOURCE);
  await nextEvent(a, 'negotiationneeded');
  return a.createOffer();
}

const HOST_CANDIDATE = 'candidate:1 1 UDP 2122260223 127.0.0.1 50000 typ host';

describe('bad input', () => {
  it('malformed, truncated and non-SDP descriptions are TypeErrors', async () => {
    const offer = await realOffer();
    await expect(b.setRemoteDescription({ type: 'offer', sdp: 'hello' })).rejects.toThrow(TypeError);
    await expect(b.setRemoteDescription({ type: 'offer', sdp: offer.sdp.slice(0, 20) })).rejects.toThrow(/malformed SDP/);
    await expect(b.setRemoteDescription({ type: 'offer', sdp: offer.sdp.replace(/m=video [^\r]*/, 'm=video nine') })).rejects.toThrow(/media line/);
    await expect(b.setRemoteDescription({ type: 'offer', sdp: offer.sdp.replace('a=group', '%%garbage') })).rejects.toThrow(/malformed SDP line/);
    await expect(b.setRemoteDescription({ type: 'bogus' as 'offer', sdp: offer.sdp })).rejects.toThrow(TypeError);
    await expect(b.setRemoteDescription(null as never)).rejects.toThrow(TypeError);
    await expect(b.setRemoteDescription({ type: 'offer' } as never)).rejects.toThrow(TypeError);
    // Nothing was applied, and the real offer still works.
    expect(b.remoteDescription).toBeNull();
    await b.setRemoteDescription(offer);
    expect(b.signalingState).toBe('have-remote-offer');
  });

  it('descriptions of the wrong type for the signalling state are InvalidStateErrors, as in browsers', async () => {
    const offer = await realOffer();
    const error = await b.setRemoteDescription({ type: 'answer', sdp: offer.sdp }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidStateError);
    expect((error as InvalidStateError).message).toMatch(/remote answer cannot be set in signaling state stable/);
    await expect(b.createAnswer()).rejects.toThrow(/createAnswer needs a remote offer/);
    expect(b.signalingState).toBe('stable');
  });

  it('candidates: malformed ones are TypeErrors, missing m-lines OperationErrors, and before a remote description InvalidStateError', async () => {
    const offer = await realOffer();
    await expect(b.addIceCandidate({ candidate: HOST_CANDIDATE, sdpMLineIndex: 0 })).rejects.toBeInstanceOf(InvalidStateError);
    // In a description, a malformed candidate fails the whole description, as in browsers.
    const withBadCandidate = offer.sdp.replace(/(a=mid:[^\r]*\r\n)/, `$1a=${HOST_CANDIDATE.replace(':1 1 ', ':1 NaN ')}\r\n`);
    expect(withBadCandidate).toContain(' NaN UDP');
    await expect(b.setRemoteDescription({ type: 'offer', sdp: withBadCandidate })).rejects.toThrow(/m-line 0 has a malformed a=candidate/);
    await b.setRemoteDescription(offer);
    await expect(b.addIceCandidate({ candidate: 'not a candidate', sdpMLineIndex: 0 })).rejects.toThrow(TypeError);
    await expect(b.addIceCandidate({ candidate: 'candidate:1 1 UDP 2122260223 127.0.0.1 port typ host', sdpMLineIndex: 0 })).rejects.toThrow(TypeError);
    // Component ids are 1 to 256 (RFC 8839); libnice takes 0 with a CRITICAL.
    for (const component of [0, 257]) {
      await expect(b.addIceCandidate({ candidate: HOST_CANDIDATE.replace(':1 1 ', `:1 ${component} `), sdpMLineIndex: 0 })).rejects.toThrow(TypeError);
    }
    await expect(b.addIceCandidate({ candidate: HOST_CANDIDATE })).rejects.toThrow(/sdpMLineIndex or sdpMid/);
    await expect(b.addIceCandidate({ candidate: HOST_CANDIDATE, sdpMLineIndex: -1 })).rejects.toThrow(TypeError);
    await expect(b.addIceCandidate({ candidate: HOST_CANDIDATE, sdpMLineIndex: 7 })).rejects.toBeInstanceOf(OperationError);
    await expect(b.addIceCandidate({ candidate: HOST_CANDIDATE, sdpMid: 'no-such-mid' })).rejects.toBeInstanceOf(OperationError);
    await expect(b.addIceCandidate({ candidate: 42 } as never)).rejects.toThrow(TypeError);
    // Valid ones are accepted, by index or by mid, and the end-of-candidates marker too.
    await b.addIceCandidate({ candidate: HOST_CANDIDATE, sdpMLineIndex: 0 });
    await b.addIceCandidate({ candidate: `a=${HOST_CANDIDATE}`, sdpMid: 'video0' });
    await b.addIceCandidate(null);
    await b.addIceCandidate({ candidate: '', sdpMLineIndex: 0 });
  });

  it('wrong argument types are TypeErrors', () => {
    expect(() => new WebRtcBin({ bundlePolicy: 'all' as never })).toThrow(TypeError);
    expect(() => new WebRtcBin({ iceTransportPolicy: 'some' as never })).toThrow(TypeError);
    expect(() => new WebRtcBin({ latency: -5 })).toThrow(TypeError);
    expect(() => new WebRtcBin({ iceServers: [{ urls: 'http://example.invalid' }] })).toThrow(/stun:, turn: or turns:/);
    expect(() => new WebRtcBin({ iceServers: [{ urls: 'turn:127.0.0.1:3478' }] })).toThrow(/username and a credential/);
    expect(() => new WebRtcBin({ iceServers: 'stun:127.0.0.1' as never })).toThrow(TypeError);
    expect(() => a.addTransceiver(3 as never)).toThrow(TypeError);
    expect(() => a.addTransceiver('video', { direction: 'sideways' as never })).toThrow(TypeError);
    expect(() => a.addTransceiver('video/x-raw')).toThrow(TypeError);
    expect(() => a.addTrack(undefined as never)).toThrow(TypeError);
    expect(() => a.createDataChannel(5 as never)).toThrow(TypeError);
    expect(() => a.createDataChannel('x', { maxRetransmits: 1, maxPacketLifeTime: 1 })).toThrow(TypeError);
    expect(() => a.createDataChannel('x', { negotiated: true })).toThrow(/needs an id/);
  });

  it('a malformed track description is a GstError and leaves nothing behind', () => {
    expect(() => a.addTrack('videotestsrc ! ! rtpvp8pay')).toThrow(GstError);
    expect(() => a.addTrack('fakesrc ! fakesink')).toThrow(GstError); // no src pad to link to webrtcbin
    // GStreamer's own linking would print a CRITICAL here (a request sink pad linked as a source): a parse error instead.
    expect(() => a.addTrack('webrtcbin ! tee')).toThrow(/GStreamer cannot build this description: .*GST_PAD_IS_SRC/);
    expect(a.getTransceivers().length).toBe(0);
  });

  it('linking a track to a branch that does not fit is a GstError, and the track can still be linked', async () => {
    a.addTrack(VP8_SOURCE);
    const seen = nextEvent<[Track]>(b, 'track');
    await PeerConnector.pair(a, b);
    const [track] = await seen;
    expect(() => track.link('rtpopusdepay ! fakesink')).toThrow(GstError); // Opus depayloader on VP8
    expect(() => track.link('rtpvp8depay ! ! fakesink')).toThrow(GstError);
    expect(track.linked).toBe(false);
    track.link('rtpvp8depay ! vp8dec ! fakesink name=out');
    await until(() => rendered(b.pipeline, 'out') > 5, 'frames are decoded after the failed attempts');
  });

  it('accepts valid ICE servers, and webrtcbin contacts every TURN server it was given', async () => {
    // Two listeners on 127.0.0.1 that stand in for TURN servers: each only records the first bytes that
    // reach it. A TURN server that webrtcbin was really given is contacted as soon as gathering starts.
    // (A turn: URL over UDP is not reachable on loopback, as libnice sends from its host addresses; the
    // TURN tests in network namespaces prove it.)
    const firstBytes = new Map<string, Buffer>();
    const listen = async (name: string) => {
      const server = createServer((socket) => {
        socket.once('data', (data) => firstBytes.set(name, data));
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    };
    const [tcp, tls] = [await listen('tcp'), await listen('tls')];
    const portOf = (server: Server) => (server.address() as AddressInfo).port;
    const c = new WebRtcBin({
      iceServers: [
        { urls: 'stun:127.0.0.1:3478' },
        {
          urls: ['turn:127.0.0.1:3478?transport=udp', `turn:127.0.0.1:${portOf(tcp)}?transport=tcp`, `turns:127.0.0.1:${portOf(tls)}`],
          username: 'user',
          credential: 'p@ss:word',
        },
      ],
    });
    try {
      expect(c.element.get('stun-server')).toBe('stun://127.0.0.1:3478');
      c.addTransceiver('video', { direction: 'recvonly' });
      await c.setLocalDescription(await c.createOffer());
      const isTurnAllocate = (data: Buffer | undefined) => data !== undefined && data.length >= 20 && data.readUInt16BE(0) === 0x0003 && data.readUInt32BE(4) === 0x2112a442;
      const isTlsHello = (data: Buffer | undefined) => data?.[0] === 0x16;
      await until(() => firstBytes.has('tcp') && firstBytes.has('tls'), 'webrtcbin contacts both TURN servers');
      expect(isTurnAllocate(firstBytes.get('tcp'))).toBe(true);
      // libnice (0.1.21) speaks plain TURN on a turns: server's port, not TLS: see docs/examples.md.
      expect(isTurnAllocate(firstBytes.get('tls')) || isTlsHello(firstBytes.get('tls'))).toBe(true);
    } finally {
      c.close();
      tcp.close();
      tls.close();
    }
  });

  it('calls after close() fail with InvalidStateError; close() is idempotent and rejects pending work', async () => {
    a.addTrack(VP8_SOURCE);
    await nextEvent(a, 'negotiationneeded');
    const pending = a.createOffer();
    let closes = 0;
    a.on('close', () => closes++);
    a.close();
    a.close();
    expect(closes).toBe(1);
    expect(a.closed).toBe(true);
    expect(a.pipeline.closed).toBe(true);
    expect(a.connectionState).toBe('closed');
    expect(a.signalingState).toBe('closed');
    await expect(pending).rejects.toBeInstanceOf(InvalidStateError);
    await expect(a.createOffer()).rejects.toBeInstanceOf(InvalidStateError);
    await expect(a.setRemoteDescription({ type: 'offer', sdp: 'v=0' })).rejects.toBeInstanceOf(InvalidStateError);
    await expect(a.addIceCandidate({ candidate: HOST_CANDIDATE, sdpMLineIndex: 0 })).rejects.toBeInstanceOf(InvalidStateError);
    await expect(a.getStats()).rejects.toBeInstanceOf(InvalidStateError);
    expect(() => a.addTrack(VP8_SOURCE)).toThrow(InvalidStateError);
    expect(() => a.addTransceiver('video')).toThrow(InvalidStateError);
    expect(() => a.getTransceivers()).toThrow(InvalidStateError);
    expect(() => a.createDataChannel('late')).toThrow(InvalidStateError);
    expect(a.localDescription).toBeNull();
  });

  it('a throwing or rejecting listener is reported and negotiation still completes', async () => {
    const reported: string[] = [];
    for (const peer of [a, b]) peer.on('listenererror', (_error, event) => reported.push(event));
    a.on('negotiationneeded', () => {
      throw new Error('bug in a listener');
    });
    b.on('icecandidate', async () => {
      throw new Error('async bug in a listener');
    });
    a.addTrack(VP8_SOURCE);
    b.on('track', (track) => track.link('rtpvp8depay ! vp8dec ! fakesink name=out'));
    await PeerConnector.pair(a, b);
    await until(() => rendered(b.pipeline, 'out') > 5, 'media flows despite the listeners');
    expect(reported).toContain('negotiationneeded');
    expect(reported).toContain('icecandidate');
  });

  it('PeerConnector reports malformed signalling messages as errors and keeps going', async () => {
    const connector = new PeerConnector(b, { role: 'answerer', send: () => undefined });
    const errors: Error[] = [];
    connector.on('error', (error) => errors.push(error));
    await connector.handle({ type: 'nonsense' } as never);
    await connector.handle({ type: 'sdp', sdp: { type: 'offer', sdp: 'garbage' } });
    expect(errors.map((e) => e.name)).toEqual(['TypeError', 'TypeError']);
    await connector.handle({ type: 'sdp', sdp: await realOffer() });
    expect(b.signalingState).toBe('stable');
    connector.close();
  });
});
