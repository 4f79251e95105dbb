// H.264 helpers: profile-level-id as RFC 6184 defines it, codec choice from a
// remote offer (as browsers match formats), and encoder fragments that give
// constrained baseline with each installed encoder.
import { describe, expect, it } from 'vitest';

import {
  chooseCodec,
  describeOffered,
  h264EncoderFragment,
  h264RtpCaps,
  MissingDependencyError,
  parseProfileLevelId,
  Pipeline,
  payloaderFor,
  profileLevelId,
  sameH264Profile,
  sdpCodecs,
} from '../lib/index.js';
import { nextEvent } from './support/wait.js';
import { nativePipeline } from '../lib/core/pipeline-handle.js';

/** A browser-like offer: VP8, H.264 in three formats (with RTX), Opus; audio first. */
const OFFER = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'a=recvonly',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 103 104 127 39',
  'c=IN IP4 0.0.0.0',
  'a=mid:1',
  'a=recvonly',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:103 H264/90000',
  'a=rtcp-fb:103 nack',
  'a=rtcp-fb:103 nack pli',
  'a=fmtp:103 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
  'a=rtpmap:104 rtx/90000',
  'a=fmtp:104 apt=103',
  'a=rtpmap:127 H264/90000',
  'a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:39 H264/90000',
  'a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f',
  '',
].join('\r\n');

describe('profile-level-id', () => {
  it('decodes profiles and levels as RFC 6184 defines them', () => {
    expect(parseProfileLevelId('42e01f')).toMatchObject({ profile: 'constrained-baseline', level: '3.1', profileIdc: 0x42, levelIdc: 31 });
    expect(parseProfileLevelId('42c015')).toMatchObject({ profile: 'constrained-baseline', level: '2.1' }); // what x264enc writes
    expect(parseProfileLevelId('4d801f').profile).toBe('constrained-baseline');
    expect(parseProfileLevelId('42001f').profile).toBe('baseline');
    expect(parseProfileLevelId('4d001f')).toMatchObject({ profile: 'main', level: '3.1' });
    expect(parseProfileLevelId('640028')).toMatchObject({ profile: 'high', level: '4' });
    expect(parseProfileLevelId('640c1f').profile).toBe('constrained-high');
    expect(parseProfileLevelId('42f00b').level).toBe('1b'); // constraint_set3 with level_idc 11
    expect(parseProfileLevelId('58000b').profile).toBe('extended');
    expect(parseProfileLevelId('ff001f').profile).toBeNull();
    for (const bad of ['42e01', '42e01fz', 'xyzxyz', '']) expect(() => parseProfileLevelId(bad)).toThrow(TypeError);
  });

  it('encodes a profile and a level', () => {
    expect(profileLevelId('constrained-baseline', '3.1')).toBe('42e01f');
    expect(profileLevelId('high', '4')).toBe('640028');
    expect(profileLevelId('main')).toBe('4d001f');
    expect(parseProfileLevelId(profileLevelId('constrained-high', '5.1'))).toMatchObject({ profile: 'constrained-high', level: '5.1' });
    expect(() => profileLevelId('high', '9.9')).toThrow(TypeError);
  });

  it('matches formats by profile, not level, as browsers do', () => {
    expect(sameH264Profile('42e01f', '42c015')).toBe(true);
    expect(sameH264Profile('42e01f', '42001f')).toBe(false);
    expect(sameH264Profile('640028', '64001f')).toBe(true);
  });

  it('writes RTP caps with packetization-mode=1 and a profile-level-id', () => {
    expect(h264RtpCaps()).toBe(
      'application/x-rtp, media=(string)video, encoding-name=(string)H264, payload=(int)102, clock-rate=(int)90000, packetization-mode=(string)1, profile-level-id=(string)42e01f',
    );
    expect(h264RtpCaps({ payloadType: 125, profileLevelId: '640C1F' })).toMatch(/payload=\(int\)125.*profile-level-id=\(string\)640c1f/);
    expect(() => h264RtpCaps({ profileLevelId: 'nope' })).toThrow(TypeError);
  });
});

describe('codec choice from a remote offer', () => {
  it('lists every format of every m-line with its parameters', () => {
    const codecs = sdpCodecs(OFFER);
    expect(codecs.map((c) => `${c.mid}:${c.encodingName}/${c.payloadType}`)).toEqual(['0:OPUS/111', '1:VP8/96', '1:RTX/97', '1:H264/103', '1:RTX/104', '1:H264/127', '1:H264/39']);
    expect(codecs[0]).toMatchObject({ kind: 'audio', mlineIndex: 0, clockRate: 48000, channels: 2, fmtp: { minptime: '10', useinbandfec: '1' } });
    expect(codecs.find((c) => c.payloadType === 103)?.rtcpFeedback).toEqual(['nack', 'nack pli']);
  });

  it('picks the H.264 format with packetization-mode=1 and our profile, with its payload type', () => {
    expect(chooseCodec(OFFER, 'video', [{ codec: 'H264' }])).toMatchObject({ payloadType: 127, mlineIndex: 1 });
    expect(chooseCodec(OFFER, 'video', [{ codec: 'H264', profileLevelId: '640c29' }])?.payloadType).toBe(39);
    expect(chooseCodec(OFFER, 'video', [{ codec: 'H264', profileLevelId: '4d001f' }])).toBeNull(); // main is not offered
    expect(chooseCodec(OFFER, 'video', [{ codec: 'H264', profileLevelId: '4d001f' }, { codec: 'VP8' }])?.payloadType).toBe(96);
    expect(chooseCodec(OFFER, 'audio', [{ codec: 'OPUS' }])).toMatchObject({ payloadType: 111, mlineIndex: 0 });
    expect(describeOffered(OFFER, 'video')).toBe('VP8/96, H264/103 (42e01f, mode 0), H264/127 (42e01f, mode 1), H264/39 (640c1f, mode 1)');
  });

  it('skips rejected m-lines but not bundle-only ones', () => {
    const rejected = OFFER.replace('m=audio 9 ', 'm=audio 0 ');
    expect(chooseCodec(rejected, 'audio', [{ codec: 'OPUS' }])).toBeNull();
    const bundleOnly = rejected.replace('a=mid:0\r\n', 'a=mid:0\r\na=bundle-only\r\n');
    expect(chooseCodec(bundleOnly, 'audio', [{ codec: 'OPUS' }])?.payloadType).toBe(111);
  });

  it('gives the payloader for each codec', () => {
    expect(payloaderFor('H264', 127)).toBe('rtph264pay config-interval=-1 aggregate-mode=zero-latency pt=127');
    expect(payloaderFor('VP8')).toMatch(/^rtpvp8pay pt=96/);
    expect(payloaderFor('OPUS')).toBe('rtpopuspay pt=111');
    expect(() => payloaderFor('VP8', 8)).toThrow(TypeError);
  });
});

describe('H.264 encoder fragments', () => {
  for (const encoder of ['x264enc', 'openh264enc'] as const) {
    it(`${encoder} gives constrained baseline that rtph264pay describes for browsers`, async () => {
      // The capsfilter after the fragment only accepts what browsers need; a mismatch would fail negotiation.
      const pipeline = new Pipeline(
        `videotestsrc num-buffers=10 ! video/x-raw,width=320,height=240 ! ${h264EncoderFragment({ encoder, bitrate: 500, keyframeInterval: 30 })} ! ` +
          'video/x-h264,profile=constrained-baseline,alignment=au ! rtph264pay config-interval=-1 ! fakesink name=out',
      );
      try {
        const eos = nextEvent(pipeline, 'eos');
        await pipeline.play();
        await eos;
        const caps = String(nativePipeline(pipeline).getPad(pipeline.getElement('out')!.native, 'sink')!.get('caps'));
        expect(caps).toMatch(/encoding-name=\(string\)H264/);
        expect(caps).toMatch(/packetization-mode=\(string\)1/);
        expect(caps).toMatch(/sprop-parameter-sets=/);
        expect(parseProfileLevelId(/profile-level-id=\(string\)([0-9a-f]{6})/.exec(caps)![1]).profile).toBe('constrained-baseline');
      } finally {
        pipeline.close();
      }
    });
  }

  it('refuses bad settings and names a missing encoder', () => {
    expect(() => h264EncoderFragment({ bitrate: -1 })).toThrow(TypeError);
    expect(() => h264EncoderFragment({ profile: 'high-10' as 'high' })).toThrow(TypeError);
    expect(() => h264EncoderFragment({ encoder: 'nvh264enc' as 'x264enc' })).toThrow(MissingDependencyError);
  });
});
