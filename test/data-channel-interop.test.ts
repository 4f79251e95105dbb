// Data channel interop with two independent stacks from npm, over real loopback ICE, DTLS and SCTP:
// node-datachannel (libdatachannel, C++) and werift (pure TypeScript), each as offerer and as answerer.
import { type DataChannel as NdcDataChannel, PeerConnection as NdcPeerConnection } from 'node-datachannel';
import { afterEach, describe, expect, it } from 'vitest';
import type { RTCDataChannel, RTCPeerConnection } from 'werift';

import { type DataChannel, PeerConnector, type SessionPayload, WebRtcBin } from '../lib/index.js';
import { Inbox, opened, patterned, utf8Text } from './support/data-channel.js';
import { nextEvent } from './support/wait.js';
import { createWeriftPeer, startLoopbackStunServer, WeriftSignaller } from './support/werift.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What every interop test sends each way: text and binary up to 64 KiB, then many small ordered messages. */
const SIZES = [1, 100, 1200, 16384, 65536];
const BURST = 1000;

function messagesToSend(tag: string): (string | Buffer)[] {
  return [
    ...SIZES.map((size) => utf8Text(size)),
    ...SIZES.map((size, i) => patterned(size, i + tag.length)),
    ...Array.from({ length: BURST }, (_, i) => (i % 2 === 0 ? `${tag} ${i}` : Buffer.from(`${tag} ${i}`))),
  ];
}

/** Same content, same type (text or binary), same order. */
function expectSameMessages(received: (string | Buffer | ArrayBuffer)[], sent: (string | Buffer)[]): void {
  expect(received.length).toBe(sent.length);
  for (let i = 0; i < sent.length; i++) {
    const expected = sent[i];
    const actual = received[i];
    if (typeof expected === 'string') expect(actual).toBe(expected);
    else expect(Buffer.isBuffer(actual) && actual.equals(expected), `binary message ${i} (${expected.length} bytes)`).toBe(true);
  }
}

/** The other stack's end of the channel, behind one small interface. */
interface ForeignChannel {
  label: string;
  protocol: string;
  send(message: string | Buffer): void;
  inbox: Inbox<string | Buffer | ArrayBuffer>;
  close(): void;
  /** Resolves once this end is closed. */
  closed(): Promise<unknown>;
}

async function exchangeAndClose(ours: DataChannel, theirs: ForeignChannel, closer: 'ours' | 'theirs', timeoutMs = 20_000): Promise<void> {
  const inbox = new Inbox();
  ours.on('message', inbox.push);
  const toThem = messagesToSend('to them');
  const toUs = messagesToSend('to us');
  for (const message of toThem) ours.send(message);
  for (const message of toUs) theirs.send(message);
  expectSameMessages(await theirs.inbox.waitFor(toThem.length, timeoutMs), toThem);
  expectSameMessages(await inbox.waitFor(toUs.length, timeoutMs), toUs);

  const closed = Promise.all([nextEvent(ours, 'close', () => true, timeoutMs), theirs.closed()]);
  if (closer === 'ours') ours.close();
  else theirs.close();
  await closed;
  expect(ours.readyState).toBe('closed');
}

// --- node-datachannel ------------------------------------------------------

/** Signals between a WebRtcBin (through a PeerConnector) and a node-datachannel peer, in this process. */
function connectNdc(webrtcbin: WebRtcBin, peer: NdcPeerConnection, role: 'offerer' | 'answerer'): PeerConnector {
  const connector = new PeerConnector(webrtcbin, {
    role,
    send: (message: SessionPayload) => {
      if (message.type === 'sdp') peer.setRemoteDescription(message.sdp.sdp, message.sdp.type);
      else if (message.candidate !== null) peer.addRemoteCandidate(message.candidate.candidate, message.candidate.sdpMid ?? '0');
    },
  });
  peer.onLocalDescription((sdp, type) => void connector.handle({ type: 'sdp', sdp: { type: type as 'offer' | 'answer', sdp } }));
  peer.onLocalCandidate((candidate, mid) => void connector.handle({ type: 'ice', candidate: { candidate, sdpMid: mid, sdpMLineIndex: 0 } }));
  return connector;
}

function foreignNdc(channel: NdcDataChannel): ForeignChannel {
  closeAfterTest(channel);
  const inbox = new Inbox<string | Buffer | ArrayBuffer>();
  channel.onMessage(inbox.push);
  return {
    label: channel.getLabel(),
    protocol: channel.getProtocol(),
    send: (message) => (typeof message === 'string' ? channel.sendMessage(message) : channel.sendMessageBinary(message)),
    inbox,
    close: () => channel.close(),
    closed: () => (channel.isOpen() ? new Promise<void>((resolve) => channel.onClosed(resolve)) : Promise.resolve()),
  };
}

/**
 * Every node-datachannel channel is closed after its test. (node-datachannel's
 * cleanup() is not called: in 0.33.4 it can abort the process, releasing a
 * thread-safe function twice, and closing every peer and channel is enough.)
 */
function closeAfterTest(channel: NdcDataChannel): NdcDataChannel {
  cleanups.push(() => channel.close());
  return channel;
}

function ndcOpened(channel: NdcDataChannel): Promise<void> {
  return channel.isOpen() ? Promise.resolve() : new Promise((resolve) => channel.onOpen(resolve));
}

function newNdcPeer(): NdcPeerConnection {
  const peer = new NdcPeerConnection('interop', { iceServers: [] });
  cleanups.push(() => peer.close());
  return peer;
}

describe('data channel interop with node-datachannel (libdatachannel)', () => {
  it('WebRtcBin offers a channel; node-datachannel answers; messages flow both ways; the WebRtcBin closes', async () => {
    const webrtcbin = new WebRtcBin();
    cleanups.push(() => webrtcbin.close());
    const peer = newNdcPeer();
    const announced = new Promise<NdcDataChannel>((resolve) => peer.onDataChannel(resolve));
    const ours = webrtcbin.createDataChannel('from-gst', { protocol: 'proto-g' });
    const errors: Error[] = [];
    connectNdc(webrtcbin, peer, 'offerer').on('error', (error) => errors.push(error));
    const channel = await announced;
    const theirs = foreignNdc(channel);
    await Promise.all([opened(ours), ndcOpened(channel)]);
    expect(theirs.label).toBe('from-gst');
    expect(theirs.protocol).toBe('proto-g');
    // Our SDP has no a=max-message-size, so libdatachannel applies RFC 8841's 64 KiB, like we do.
    expect(channel.maxMessageSize()).toBe(65536);
    expect(ours.maxMessageSize).toBe(65536);
    await exchangeAndClose(ours, theirs, 'ours');
    expect(errors).toEqual([]);
  });

  it('node-datachannel offers a channel; WebRtcBin answers; messages flow both ways; node-datachannel closes', async () => {
    const webrtcbin = new WebRtcBin();
    cleanups.push(() => webrtcbin.close());
    const peer = newNdcPeer();
    const errors: Error[] = [];
    connectNdc(webrtcbin, peer, 'answerer').on('error', (error) => errors.push(error));
    const announced = nextEvent<[DataChannel]>(webrtcbin, 'datachannel');
    const channel = peer.createDataChannel('from-ndc', { protocol: 'proto-n' });
    const [ours] = await announced;
    await Promise.all([opened(ours), ndcOpened(channel)]);
    expect(ours.label).toBe('from-ndc');
    expect(ours.protocol).toBe('proto-n');
    await exchangeAndClose(ours, foreignNdc(channel), 'theirs');
    expect(errors).toEqual([]);
  });

  it('receives empty text and binary messages (RFC 8831 PPIDs 56 and 57) with their types, in order', async () => {
    const webrtcbin = new WebRtcBin();
    cleanups.push(() => webrtcbin.close());
    const peer = newNdcPeer();
    connectNdc(webrtcbin, peer, 'answerer');
    const announced = nextEvent<[DataChannel]>(webrtcbin, 'datachannel');
    const channel = closeAfterTest(peer.createDataChannel('empty'));
    const [ours] = await announced;
    await Promise.all([opened(ours), ndcOpened(channel)]);
    const inbox = new Inbox();
    ours.on('message', inbox.push);
    channel.sendMessage('');
    channel.sendMessage('text');
    channel.sendMessageBinary(Buffer.alloc(0));
    channel.sendMessage('');
    const [emptyText, text, emptyBinary, emptyTextAgain] = await inbox.waitFor(4);
    expect(emptyText).toBe('');
    expect(text).toBe('text');
    expect(Buffer.isBuffer(emptyBinary) && emptyBinary.length).toBe(0);
    expect(emptyTextAgain).toBe('');
  });
});

// --- werift ----------------------------------------------------------------

/**
 * Bursts from GStreamer to werift stall now and then for one SCTP retransmission
 * timeout: werift's receiver makes usrsctp senders retransmit on a timer (about
 * 0.2 s from libdatachannel, whose RTO.min is 200 ms, and 1 s from GStreamer,
 * which keeps usrsctp's default of 1 s). On a loaded machine the timeouts back off
 * (1, 2, 4, ... s), so the werift tests wait longer than the others.
 */
const WERIFT_TIMEOUT_MS = 60_000;
const WERIFT_TEST_TIMEOUT_MS = 90_000;

function foreignWerift(channel: RTCDataChannel): ForeignChannel {
  const inbox = new Inbox<string | Buffer | ArrayBuffer>();
  channel.onMessage.subscribe(inbox.push);
  return {
    label: channel.label,
    protocol: channel.protocol,
    send: (message) => channel.send(message),
    inbox,
    close: () => channel.close(),
    closed: () => (channel.readyState === 'closed' ? Promise.resolve() : channel.stateChanged.watch((state) => state === 'closed', WERIFT_TIMEOUT_MS)),
  };
}

async function weriftOpened(channel: RTCDataChannel): Promise<void> {
  if (channel.readyState !== 'open') await channel.stateChanged.watch((state) => state === 'open', 20_000);
}

/** A werift peer and a WebRtcBin signalling to each other in this process. */
async function weriftPair(role: 'offerer' | 'answerer'): Promise<{ webrtcbin: WebRtcBin; peer: RTCPeerConnection; side: WeriftSignaller }> {
  const stun = await startLoopbackStunServer();
  const webrtcbin = new WebRtcBin();
  const peer = createWeriftPeer(stun.url);
  let side!: WeriftSignaller;
  const connector = new PeerConnector(webrtcbin, { role, send: (message) => void side.handle(message) });
  side = new WeriftSignaller(peer, (message) => void connector.handle(message));
  const errors: Error[] = [];
  connector.on('error', (error) => errors.push(error));
  cleanups.push(
    () => stun.close(),
    () => webrtcbin.close(),
    () => peer.close(),
    () => side.close(),
    () => expect([...errors, ...side.errors]).toEqual([]),
  );
  return { webrtcbin, peer, side };
}

describe('data channel interop with werift', () => {
  it('WebRtcBin offers a channel; werift answers; messages flow both ways; werift closes', async () => {
    const { webrtcbin, peer } = await weriftPair('offerer');
    const announced = new Promise<RTCDataChannel>((resolve) => peer.onDataChannel.subscribe(resolve));
    const ours = webrtcbin.createDataChannel('from-gst', { protocol: 'proto-g' });
    const channel = await announced;
    await Promise.all([opened(ours), weriftOpened(channel)]);
    const theirs = foreignWerift(channel);
    expect(theirs.label).toBe('from-gst');
    expect(theirs.protocol).toBe('proto-g');
    await exchangeAndClose(ours, theirs, 'theirs', WERIFT_TIMEOUT_MS);
  }, WERIFT_TEST_TIMEOUT_MS);

  it('werift offers a channel; WebRtcBin answers; messages flow both ways; the WebRtcBin closes', async () => {
    const { webrtcbin, peer, side } = await weriftPair('answerer');
    const announced = nextEvent<[DataChannel]>(webrtcbin, 'datachannel');
    const channel = peer.createDataChannel('from-werift', { protocol: 'proto-w' });
    await side.offer();
    const [ours] = await announced;
    await Promise.all([opened(ours), weriftOpened(channel)]);
    expect(ours.label).toBe('from-werift');
    expect(ours.protocol).toBe('proto-w');
    await exchangeAndClose(ours, foreignWerift(channel), 'ours', WERIFT_TIMEOUT_MS);
  }, WERIFT_TEST_TIMEOUT_MS);
});
