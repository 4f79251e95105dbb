// ULPFEC in RED (issue 13): the `fec` option negotiates `red` and `ulpfec` with
// another WebRtcBin and with Chromium, in either role, media flows with it, an
// answer without them falls back to plain media, and the FEC packets repair
// losses on a link that drops them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MediaFanOut, PeerConnector, WebRtcBin } from '../lib/index.js';
import { native, type NativeObject } from '../lib/core/native.js';
import { parseSdp } from '../lib/core/sdp.js';
import { rendered, VP8_SOURCE } from './support/media.js';
import { receive } from './support/receiver.js';
import { namespacesAvailable } from './support/netns.js';
import { type BrowserPeer, LinkBrowser, NamespacePeer } from './support/shaped-link-peers.js';
import { createShapedLink, type ShapedLink } from './support/shaped-link.js';
import { until, untilSettled } from './support/wait.js';

const FEC = { type: 'ulpfec-red', percentage: 50 } as const;
const DECODE = 'rtpvp8depay ! vp8dec ! fakesink name=frames sync=false async=false';

/** The video m-section's codec names (upper case) of a description. */
function videoCodecs(sdp: string | undefined): string[] {
  const video = parseSdp(sdp ?? '').media.find((media) => media.type === 'video');
  return (video?.rtp ?? []).map((rtp) => rtp.codec.toUpperCase());
}

/** The elements of a factory inside a WebRtcBin (webrtcbin makes the FEC elements itself). */
function inner(webrtcbin: WebRtcBin, factory: string): NativeObject[] {
  return native.binElements(webrtcbin.element.native).filter((element) => element.factoryName === factory);
}

/** What the sending side's FEC encoders were set to once negotiated: payload types (255 / 0: passthrough). */
function encoderSettings(webrtcbin: WebRtcBin): { ulpfecPt: unknown; redPt: unknown } {
  return { ulpfecPt: inner(webrtcbin, 'rtpulpfecenc')[0]?.get('pt'), redPt: inner(webrtcbin, 'rtpredenc')[0]?.get('pt') };
}

/** The sender's encoders use the negotiated red and ulpfec payload types (RED wraps every packet, FEC packets are made). */
function expectFecSent(sender: WebRtcBin): void {
  const media = parseSdp(sender.localDescription!.sdp).media[0].rtp;
  const pt = (codec: string) => media.find((rtp) => rtp.codec.toUpperCase() === codec)?.payload;
  expect(pt('RED')).toBeTypeOf('number');
  expect(encoderSettings(sender)).toEqual({ ulpfecPt: pt('ULPFEC'), redPt: pt('RED') });
}

function connect(offerer: WebRtcBin, answerer: WebRtcBin, errors: Error[]): void {
  const offering: PeerConnector = new PeerConnector(offerer, { role: 'offerer', send: (message) => void answering.handle(message) });
  const answering: PeerConnector = new PeerConnector(answerer, { role: 'answerer', send: (message) => void offering.handle(message) });
  offering.on('error', (error) => errors.push(error));
  answering.on('error', (error) => errors.push(error));
}

describe('fec option', () => {
  it('refuses bad values with a TypeError', () => {
    expect(() => new WebRtcBin({ fec: { type: 'flexfec' } as never })).toThrow(TypeError);
    expect(() => new WebRtcBin({ fec: 'ulpfec' as never })).toThrow(TypeError);
    const webrtcbin = new WebRtcBin();
    try {
      expect(() => webrtcbin.addTransceiver('video', { fec: { type: 'ulpfec-red', percentage: 101 } })).toThrow(/percentage must be an integer from 0 to 100/);
      expect(() => webrtcbin.addTransceiver('video', { fec: { type: 'ulpfec-red', percentage: 2.5 } })).toThrow(TypeError);
      expect(() => webrtcbin.addTransceiver('audio', { fec: FEC })).toThrow(/for video/);
      expect(() => webrtcbin.addTrack(VP8_SOURCE, { fec: { type: 'red' } as never })).toThrow(TypeError);
      expect(webrtcbin.getTransceivers()).toEqual([]); // nothing was added by the refused calls
      // null and false are "off"; a percentage may be left out.
      expect(() => webrtcbin.addTransceiver('video', { fec: null })).not.toThrow();
      expect(() => webrtcbin.addTransceiver('video', { fec: { type: 'ulpfec-red' } })).not.toThrow();
    } finally {
      webrtcbin.close();
    }
  });

  it('between two WebRtcBins: red and ulpfec offered and accepted, FEC sent and frames decoded', async () => {
    const sender = new WebRtcBin({ latency: 50 });
    const receiver = new WebRtcBin({ latency: 50, fec: FEC });
    const errors: Error[] = [];
    try {
      sender.addTrack(VP8_SOURCE, { fec: FEC });
      receiver.on('track', (track) => track.link(DECODE));
      connect(sender, receiver, errors);
      await until(() => rendered(receiver.pipeline, 'frames') > 30, '30 frames decoded', 20_000);
      expect(errors).toEqual([]);
      expect(videoCodecs(sender.localDescription?.sdp)).toEqual(expect.arrayContaining(['VP8', 'RED', 'ULPFEC', 'RTX']));
      expect(videoCodecs(receiver.localDescription?.sdp)).toEqual(expect.arrayContaining(['VP8', 'RED', 'ULPFEC', 'RTX']));
      const offered = parseSdp(sender.localDescription!.sdp).media[0].rtp;
      const pt = (codec: string) => offered.find((rtp) => rtp.codec.toUpperCase() === codec)?.payload;
      // The encoders inside the sender use the negotiated payload types (not passthrough), the percentage asked for.
      expectFecSent(sender);
      expect(inner(sender, 'rtpulpfecenc')[0].get('percentage')).toBe(50);
      // The receiver unpacks RED and decodes FEC with them.
      expect(inner(receiver, 'rtpreddec')[0].get('payloads')).toEqual([pt('RED')]);
      expect(inner(receiver, 'rtpulpfecdec').map((decoder) => [decoder.get('pt'), decoder.get('passthrough')])).toContainEqual([pt('ULPFEC'), false]);
    } finally {
      sender.close();
      receiver.close();
    }
  }, 40_000);

  it('a rollback before the first negotiation (a fresh webrtcbin inside) keeps each transceiver\'s FEC', async () => {
    const webrtcbin = new WebRtcBin();
    try {
      webrtcbin.addTransceiver('video', { fec: FEC });
      webrtcbin.addTrack(VP8_SOURCE, { fec: FEC });
      await webrtcbin.setLocalDescription();
      await webrtcbin.setLocalDescription({ type: 'rollback' });
      const offer = await webrtcbin.createOffer();
      const sections = parseSdp(offer.sdp).media.map((media) => media.rtp.map((rtp) => rtp.codec.toUpperCase()));
      expect(sections).toHaveLength(2);
      for (const codecs of sections) expect(codecs).toEqual(expect.arrayContaining(['RED', 'ULPFEC']));
    } finally {
      webrtcbin.close();
    }
  }, 30_000);

  it('a transceiver or track given fec: null stays without FEC when the WebRtcBin\'s default turns it on', async () => {
    const webrtcbin = new WebRtcBin({ fec: FEC });
    try {
      webrtcbin.addTransceiver('video', { fec: null });
      webrtcbin.addTrack(VP8_SOURCE, { fec: null });
      webrtcbin.addTransceiver('video');
      const offer = await webrtcbin.createOffer();
      const sections = parseSdp(offer.sdp).media.map((media) => media.rtp.some((rtp) => /^(red|ulpfec)$/i.test(rtp.codec)));
      expect(sections).toEqual([false, false, true]);
    } finally {
      webrtcbin.close();
    }
  }, 30_000);

  it('an answer without red and ulpfec: the sender sends plain media, frames decoded', async () => {
    const sender = new WebRtcBin({ latency: 50, fec: FEC });
    const receiver = new WebRtcBin({ latency: 50 });
    const errors: Error[] = [];
    try {
      sender.addTrack(VP8_SOURCE);
      receiver.on('track', (track) => track.link(DECODE));
      connect(sender, receiver, errors);
      await until(() => rendered(receiver.pipeline, 'frames') > 30, '30 frames decoded', 20_000);
      expect(errors).toEqual([]);
      expect(videoCodecs(sender.localDescription?.sdp)).toEqual(expect.arrayContaining(['RED', 'ULPFEC']));
      expect(videoCodecs(receiver.localDescription?.sdp)).not.toContain('RED');
      expect(videoCodecs(receiver.localDescription?.sdp)).not.toContain('ULPFEC');
      // rtpulpfecenc's 255 and rtpredenc's 0 are their passthrough settings.
      expect(encoderSettings(sender)).toEqual({ ulpfecPt: 255, redPt: 0 });
    } finally {
      sender.close();
      receiver.close();
    }
  }, 40_000);
});

describe('fec on a MediaFanOut', () => {
  it('refuses a bad fec option', () => {
    expect(() => new MediaFanOut({ video: { source: 'videotestsrc is-live=true', codec: 'VP8' }, fec: { type: 'ulpfec-red', percentage: -1 } })).toThrow(TypeError);
  });

  it('every viewer sends its video with FEC, not its audio, and its receiver decodes', async () => {
    const fan = new MediaFanOut({
      video: { source: 'videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1', codec: 'VP8' },
      audio: { source: 'audiotestsrc is-live=true wave=sine' },
      fec: FEC,
    });
    const receivers: { close(): void }[] = [];
    try {
      await fan.start();
      const viewer = fan.addViewer();
      const receiver = await receive(viewer, { fec: FEC });
      receivers.push(receiver);
      await until(() => receiver.videoFrames > 15 && receiver.audioBuffers > 0, 'video and audio decoded', 20_000);
      const sections = parseSdp(viewer.localDescription!.sdp).media;
      const codecs = (kind: string) => (sections.find((media) => media.type === kind)?.rtp ?? []).map((rtp) => rtp.codec.toUpperCase());
      expect(codecs('video')).toEqual(expect.arrayContaining(['VP8', 'RED', 'ULPFEC']));
      expect(codecs('audio')).not.toContain('RED');
      expect(codecs('audio')).not.toContain('ULPFEC');
      expect(videoCodecs(receiver.webrtcbin.localDescription?.sdp)).toEqual(expect.arrayContaining(['RED', 'ULPFEC']));
      const ulpfecPt = sections.find((media) => media.type === 'video')!.rtp.find((rtp) => rtp.codec.toUpperCase() === 'ULPFEC')!.payload;
      expect(inner(viewer, 'rtpulpfecenc').map((encoder) => encoder.get('pt'))).toContain(ulpfecPt);
    } finally {
      for (const receiver of receivers) receiver.close();
      fan.close();
    }
  }, 40_000);
});

describe('fec with Chromium', () => {
  let browser: LinkBrowser;
  beforeAll(async () => {
    browser = await LinkBrowser.launch();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** Chromium's video frames decoded (it reports no ULPFEC counters: its fecPacketsReceived is absent). */
  async function chromiumInbound(peer: BrowserPeer): Promise<{ framesDecoded: number }> {
    return peer.page.evaluate(async () => {
      const result = { framesDecoded: 0 };
      // The page's peer connection: a global `let pc` of its script (shaped-link-peers.ts).
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (await (globalThis as any).eval('pc').getStats()).forEach((stats: any) => {
        if (stats.type === 'inbound-rtp' && stats.kind === 'video') {
          result.framesDecoded += stats.framesDecoded ?? 0;
        }
      });
      return result;
    });
  }

  it('Chromium offers to receive, the WebRtcBin answers with red and ulpfec: FEC is sent and Chromium decodes', async () => {
    const peer = await browser.newPeer();
    const sender = new WebRtcBin();
    const errors: Error[] = [];
    try {
      sender.addTrack(VP8_SOURCE, { fec: FEC });
      const connector = new PeerConnector(sender, { role: 'answerer', send: (message) => void peer.handle(message).catch((error: Error) => errors.push(error)) });
      connector.on('error', (error) => errors.push(error));
      peer.onSignal = (message) => void connector.handle(message);
      await peer.start('receive');
      await peer.offer();
      await until(async () => (await chromiumInbound(peer)).framesDecoded > 30, 'Chromium decoded 30 frames', 20_000, 200);
      expectFecSent(sender);
      expect(errors).toEqual([]);
      expect(videoCodecs(sender.localDescription?.sdp)).toEqual(expect.arrayContaining(['VP8', 'RED', 'ULPFEC']));
    } finally {
      sender.close();
      await peer.close();
    }
  }, 60_000);

  it('the WebRtcBin offers red and ulpfec, Chromium answers with them: FEC is sent and Chromium decodes', async () => {
    const peer = await browser.newPeer();
    const sender = new WebRtcBin({ fec: FEC });
    const errors: Error[] = [];
    try {
      // Chromium's page: a peer connection with no media of its own, answering.
      await peer.page.evaluate(() => {
        // The page's global `let pc` (shaped-link-peers.ts), assigned by a script of the page's own.
        const script = document.createElement('script');
        script.textContent = "pc = new RTCPeerConnection({ iceServers: [] }); pc.onicecandidate = (e) => e.candidate && peerSignal({ type: 'ice', candidate: e.candidate.toJSON() });";
        document.head.append(script);
      });
      sender.addTrack(VP8_SOURCE);
      const connector = new PeerConnector(sender, { role: 'offerer', send: (message) => void peer.handle(message).catch((error: Error) => errors.push(error)) });
      connector.on('error', (error) => errors.push(error));
      peer.onSignal = (message) => void connector.handle(message);
      await until(async () => (await chromiumInbound(peer)).framesDecoded > 30, 'Chromium decoded 30 frames', 20_000, 200);
      expectFecSent(sender);
      expect(errors).toEqual([]);
      expect(videoCodecs(sender.remoteDescription?.sdp)).toEqual(expect.arrayContaining(['VP8', 'RED', 'ULPFEC']));
    } finally {
      sender.close();
      await peer.close();
    }
  }, 60_000);

  for (const fec of [FEC, null]) {
    it(`Chromium sends and offers red and ulpfec; a WebRtcBin with fec ${fec === null ? 'off' : 'on'} answers ${fec === null ? 'without' : 'with'} them and decodes`, async () => {
      const peer = await browser.newPeer();
      const receiver = new WebRtcBin({ fec });
      const errors: Error[] = [];
      try {
        receiver.on('track', (track) => track.link(DECODE));
        const connector = new PeerConnector(receiver, { role: 'answerer', send: (message) => void peer.handle(message).catch((error: Error) => errors.push(error)) });
        connector.on('error', (error) => errors.push(error));
        peer.onSignal = (message) => void connector.handle(message);
        await peer.start('send');
        await peer.offer();
        await until(() => rendered(receiver.pipeline, 'frames') > 30, '30 frames decoded', 20_000);
        expect(errors).toEqual([]);
        expect(videoCodecs(receiver.remoteDescription?.sdp)).toEqual(expect.arrayContaining(['RED', 'ULPFEC']));
        const answered = videoCodecs(receiver.localDescription?.sdp);
        if (fec === null) expect(answered).not.toContain('ULPFEC');
        else expect(answered).toEqual(expect.arrayContaining(['RED', 'ULPFEC']));
        // RED unpacked by the payload type Chromium uses (an empty list: nothing to unpack).
        const redPayloads = inner(receiver, 'rtpreddec')[0]?.get('payloads') as number[];
        expect(redPayloads.length).toBe(fec === null ? 0 : 1);
      } finally {
        receiver.close();
        await peer.close();
      }
    }, 60_000);
  }
});

describe.skipIf(!namespacesAvailable())('fec over a link that drops 5% of packets, NACK off', () => {
  // As in network-sending.test.ts: the camera waits behind a valve until the
  // stream is up, a sink beside the payloader counts the frames encoded, and a
  // frame counts as decoded only when every frame it refers to arrived
  // (wait-for-keyframe), so that a loss not repaired costs frames.
  const SOURCE =
    'videotestsrc is-live=true pattern=smpte horizontal-speed=3 ! video/x-raw,width=640,height=480,framerate=30/1 ' +
    '! valve name=gate drop=true drop-mode=forward-sticky-events ' +
    '! vp8enc deadline=1 cpu-used=8 end-usage=cbr target-bitrate=1000000 keyframe-max-dist=150 ! tee name=split ! queue ! rtpvp8pay pt=96 ' +
    'split. ! queue ! fakesink name=sent sync=false async=false';
  const SENDING_MS = 8000;
  /** One FEC packet per media packet: nearly every single loss is repairable. */
  const FULL_FEC = { type: 'ulpfec-red', percentage: 100 } as const;
  let link: ShapedLink;
  beforeAll(async () => {
    link = await createShapedLink({ seed: 13 });
  }, 30_000);
  afterAll(async () => {
    await link?.close();
  });

  /**
   * A WebRtcBin in the link's namespace sends to one here with NACK off at the
   * receiver (FEC alone repairs), the link dropping 5% of packets once frames
   * flow. Returns the frames sent and decoded, and the FEC decoder's counts.
   */
  async function run(fec: boolean): Promise<{ sent: number; decoded: number; recovered: number; unrecovered: number; dropped: number }> {
    const sender = NamespacePeer.start(link);
    const receiver = new WebRtcBin({ fec: fec ? FULL_FEC : null });
    const errors: Error[] = [];
    try {
      link.setLoss(0);
      receiver.on('track', (track) => track.link('rtpvp8depay wait-for-keyframe=true ! vp8dec ! fakesink name=frames sync=false async=false'));
      const connector = new PeerConnector(receiver, { role: 'answerer', send: (message) => void sender.handle(message).catch((error: Error) => errors.push(error)) });
      connector.on('error', (error) => errors.push(error));
      sender.onSignal = (message) => void connector.handle(message);
      const answered = new Promise<void>((resolve) => receiver.on('signalingstatechange', (state) => state === 'stable' && resolve()));
      await sender.send(SOURCE, fec ? { fec: FULL_FEC } : {});
      await answered;
      for (const transceiver of receiver.getTransceivers()) transceiver.native.set('do-nack', false);
      await until(() => receiver.connectionState === 'connected', 'the receiver is connected', 20_000);
      await sender.set('gate', 'drop', false);
      await until(() => rendered(receiver.pipeline, 'frames') > 0, 'the first frame is decoded', 20_000);
      const before = await link.counts();
      link.setLoss(0.05);
      await new Promise((resolve) => setTimeout(resolve, SENDING_MS));
      await sender.set('gate', 'drop', true);
      await untilSettled(() => rendered(receiver.pipeline, 'frames'), 'the decoded count stops growing');
      link.setLoss(0);
      const decoder = inner(receiver, 'rtpulpfecdec')[0];
      expect(errors).toEqual([]);
      return {
        sent: await sender.rendered('sent'),
        decoded: rendered(receiver.pipeline, 'frames'),
        recovered: Number(decoder?.get('recovered') ?? 0),
        unrecovered: Number(decoder?.get('unrecovered') ?? 0),
        dropped: (await link.counts()).dropped - before.dropped,
      };
    } finally {
      receiver.close();
      await sender.close();
    }
  }

  it('the receiver recovers lost packets from FEC, and decodes a larger share of the frames sent than without FEC', async () => {
    const withFec = await run(true);
    const withoutFec = await run(false);
    const detail = JSON.stringify({ withFec, withoutFec });
    expect(withFec.dropped, detail).toBeGreaterThan(0);
    expect(withoutFec.dropped, detail).toBeGreaterThan(0);
    expect(withFec.recovered, detail).toBeGreaterThan(0);
    expect(withoutFec.recovered, detail).toBe(0);
    expect(withFec.decoded / withFec.sent, detail).toBeGreaterThan(withoutFec.decoded / withoutFec.sent);
  }, 90_000);
});
