// Data channels between two WebRtcBins in this process, over real loopback ICE, DTLS and SCTP.
import { afterEach, describe, expect, it } from 'vitest';

import { type DataChannel, InvalidStateError, PeerConnector, Pipeline, WebRtcBin } from '../lib/index.js';
import { Inbox, openChannelPair, opened, patterned, utf8Text } from './support/data-channel.js';
import { nextEvent } from './support/wait.js';

const open: { close(): void }[] = [];
afterEach(() => {
  for (const thing of open.splice(0)) thing.close();
});

async function pair(label = 'test', init = {}) {
  const result = await openChannelPair(label, init);
  open.push(result.a, result.b);
  return result;
}

/** Sizes up to the 64 KiB a GStreamer 1.22 message can carry, and the largest one. */
const SIZES = [1, 2, 100, 1000, 1200, 4096, 16384, 65535, 65536];

describe('data channels between two WebRtcBins', () => {
  it('announces a channel to the peer with its label, protocol and id, open on both sides', async () => {
    const { a, local, remote } = await pair('chat', { protocol: 'chat-v1' });
    expect(remote.label).toBe('chat');
    expect(remote.protocol).toBe('chat-v1');
    expect(local.protocol).toBe('chat-v1');
    expect(remote.id).not.toBeNull();
    expect(remote.id).toBe(local.id);
    expect(local.readyState).toBe('open');
    expect(remote.readyState).toBe('open');
    expect(remote.ordered).toBe(true);
    expect(remote.negotiated).toBe(false);
    expect(remote.maxRetransmits).toBeNull();
    expect(remote.maxPacketLifeTime).toBeNull();
    expect(local.maxMessageSize).toBe(65536);
    expect(remote.maxMessageSize).toBe(65536);
    expect(a.localDescription!.sdp).toMatch(/m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel/);
  });

  it('delivers binary messages of 1 byte to 64 KiB byte-exact, both ways', async () => {
    const { local, remote } = await pair();
    for (const [sender, receiver] of [
      [local, remote],
      [remote, local],
    ]) {
      const inbox = new Inbox();
      receiver.on('message', inbox.push);
      const sent = SIZES.map((size, i) => patterned(size, i));
      for (const message of sent) sender.send(message);
      const received = await inbox.waitFor(sent.length);
      receiver.off('message', inbox.push);
      expect(received.every((message) => Buffer.isBuffer(message))).toBe(true);
      expect(received.map((message) => message.length)).toEqual(SIZES);
      for (let i = 0; i < sent.length; i++) expect((received[i] as Buffer).equals(sent[i])).toBe(true);
    }
  });

  it('delivers UTF-8 text messages of 1 byte to 64 KiB intact, both ways', async () => {
    const { local, remote } = await pair();
    for (const [sender, receiver] of [
      [local, remote],
      [remote, local],
    ]) {
      const inbox = new Inbox();
      receiver.on('message', inbox.push);
      const sent = SIZES.map((size) => utf8Text(size));
      for (const message of sent) sender.send(message);
      const received = await inbox.waitFor(sent.length);
      receiver.off('message', inbox.push);
      expect(received.every((message) => typeof message === 'string')).toBe(true);
      expect(received).toEqual(sent);
    }
  });

  it('sends any ArrayBufferView or ArrayBuffer as binary', async () => {
    const { local, remote } = await pair();
    const inbox = new Inbox();
    remote.on('message', inbox.push);
    const bytes = patterned(64, 3);
    local.send(new Uint8Array(bytes));
    local.send(new DataView(bytes.buffer, bytes.byteOffset + 8, 16));
    local.send(new Float64Array([1.5, -2]));
    local.send(Uint8Array.from(bytes.subarray(0, 4)).buffer);
    const [u8, view, floats, arrayBuffer] = (await inbox.waitFor(4)) as Buffer[];
    expect(u8.equals(bytes)).toBe(true);
    expect(view.equals(bytes.subarray(8, 24))).toBe(true);
    expect(new Float64Array(floats.buffer.slice(floats.byteOffset, floats.byteOffset + 16))).toEqual(new Float64Array([1.5, -2]));
    expect(arrayBuffer.equals(bytes.subarray(0, 4))).toBe(true);
  });

  it('refuses a message larger than maxMessageSize (65 KiB to 256 KiB) with a TypeError, and the channel carries on', async () => {
    const { local, remote } = await pair();
    for (const size of [65537, 100_000, 131072, 262144]) {
      expect(() => local.send(Buffer.alloc(size))).toThrow(TypeError);
      expect(() => local.send(Buffer.alloc(size))).toThrow(/exceeds maxMessageSize \(65536 bytes\)/);
      expect(() => remote.send('x'.repeat(size))).toThrow(/exceeds maxMessageSize/);
    }
    expect(local.bufferedAmount).toBe(0);
    const inbox = new Inbox();
    remote.on('message', inbox.push);
    local.send('still open');
    expect(await inbox.waitFor(1)).toEqual(['still open']);
  });

  it('refuses what GStreamer 1.22 cannot send (an empty message, text with U+0000) with a TypeError, and the channel carries on', async () => {
    const { local, remote } = await pair();
    expect(() => local.send('')).toThrow(/cannot send an empty message/);
    expect(() => local.send(Buffer.alloc(0))).toThrow(TypeError);
    expect(() => local.send(new Uint8Array(0))).toThrow(TypeError);
    expect(() => local.send('a\0b')).toThrow(/U\+0000/);
    expect(() => local.send(42 as unknown as string)).toThrow(TypeError);
    expect(() => local.send({} as unknown as string)).toThrow(TypeError);
    const inbox = new Inbox();
    remote.on('message', inbox.push);
    local.send('after');
    expect(await inbox.waitFor(1)).toEqual(['after']);
    expect(local.readyState).toBe('open');
  });

  it('delivers 10,000 small messages in order', async () => {
    const { local, remote } = await pair();
    const count = 10_000;
    const inbox = new Inbox();
    remote.on('message', inbox.push);
    for (let i = 0; i < count; i++) local.send(i % 2 === 0 ? `message ${i}` : Buffer.from(`message ${i}`));
    const received = await inbox.waitFor(count);
    expect(received.length).toBe(count);
    for (let i = 0; i < count; i++) {
      const message = received[i];
      if (i % 2 === 0) expect(message).toBe(`message ${i}`);
      else expect(Buffer.isBuffer(message) && message.toString()).toBe(`message ${i}`);
    }
  });

  it('accepts unordered and partially reliable channels; the peer sees their options and messages arrive', async () => {
    const a = new WebRtcBin();
    const b = new WebRtcBin();
    open.push(a, b);
    const channels = [
      a.createDataChannel('unordered', { ordered: false }),
      a.createDataChannel('retransmits', { ordered: false, maxRetransmits: 0 }),
      a.createDataChannel('lifetime', { maxPacketLifeTime: 500 }),
    ];
    expect(channels[0].ordered).toBe(false);
    expect(channels[1].maxRetransmits).toBe(0);
    expect(channels[2].maxPacketLifeTime).toBe(500);
    const announced = new Map<string, DataChannel>();
    const allAnnounced = new Promise<void>((resolve) =>
      b.on('datachannel', (channel) => {
        announced.set(channel.label, channel);
        if (announced.size === channels.length) resolve();
      }),
    );
    await PeerConnector.pair(a, b);
    await allAnnounced;
    await Promise.all(channels.map(opened));
    expect(announced.get('unordered')).toMatchObject({ ordered: false, maxRetransmits: null, maxPacketLifeTime: null });
    expect(announced.get('retransmits')).toMatchObject({ ordered: false, maxRetransmits: 0, maxPacketLifeTime: null });
    expect(announced.get('lifetime')).toMatchObject({ ordered: true, maxRetransmits: null, maxPacketLifeTime: 500 });
    // Loopback loses nothing, so every message arrives; unordered ones may arrive in any order.
    for (const channel of channels) {
      const inbox = new Inbox();
      announced.get(channel.label)!.on('message', inbox.push);
      const sent = Array.from({ length: 100 }, (_, i) => `${channel.label} ${i}`);
      for (const message of sent) channel.send(message);
      expect([...(await inbox.waitFor(sent.length))].sort()).toEqual([...sent].sort());
    }
  });

  it('pre-negotiated channels (negotiated: true, same id on both sides) open without an announcement and carry messages', async () => {
    const a = new WebRtcBin();
    const b = new WebRtcBin();
    open.push(a, b);
    const announced: DataChannel[] = [];
    b.on('datachannel', (channel) => announced.push(channel));
    const left = a.createDataChannel('left', { negotiated: true, id: 7 });
    const right = b.createDataChannel('right', { negotiated: true, id: 7 });
    expect(left.negotiated).toBe(true);
    expect(left.id).toBe(7);
    let opens = 0;
    left.on('open', () => opens++);
    await PeerConnector.pair(a, b);
    await Promise.all([opened(left), opened(right)]);
    const toRight = new Inbox();
    const toLeft = new Inbox();
    right.on('message', toRight.push);
    left.on('message', toLeft.push);
    left.send('from left');
    left.send(patterned(1000));
    right.send('from right');
    expect(await toRight.waitFor(2)).toEqual(['from left', patterned(1000)]);
    expect(await toLeft.waitFor(1)).toEqual(['from right']);
    expect(right.id).toBe(7);
    expect(announced).toEqual([]);
    expect(opens).toBe(1);
  });

  it('close() on the side that created the channel: queued messages still arrive, then both sides see close', async () => {
    const { local, remote } = await pair();
    const inbox = new Inbox();
    remote.on('message', inbox.push);
    const remoteClosed = nextEvent(remote, 'close');
    const localClosed = nextEvent(local, 'close');
    // 12 MiB queued at once: far more than the SCTP send buffer takes.
    const count = 192;
    for (let i = 0; i < count; i++) local.send(patterned(65536, i));
    expect(local.bufferedAmount).toBeGreaterThan(0);
    local.close();
    expect(local.readyState).toBe('closing');
    expect(() => local.send('late')).toThrow(InvalidStateError);
    await Promise.all([localClosed, remoteClosed]);
    expect(inbox.messages.length).toBe(count);
    expect((inbox.messages[count - 1] as Buffer).equals(patterned(65536, count - 1))).toBe(true);
    expect(local.readyState).toBe('closed');
    expect(remote.readyState).toBe('closed');
    expect(() => remote.send('late')).toThrow(InvalidStateError);
    local.close(); // idempotent
  });

  it('close() on the side that received the channel: both sides see closing and close', async () => {
    const { local, remote } = await pair();
    const inbox = new Inbox();
    remote.on('message', inbox.push);
    local.send('before close');
    await inbox.waitFor(1);
    const localClosing = nextEvent(local, 'closing');
    const closed = Promise.all([nextEvent(local, 'close'), nextEvent(remote, 'close')]);
    remote.close();
    await localClosing;
    await closed;
    expect(local.readyState).toBe('closed');
    expect(remote.readyState).toBe('closed');
    expect(local.label).toBe('test'); // still readable after webrtcbin freed the channel
    expect(local.id).toBe(remote.id);
  });

  it('send() throws InvalidStateError while connecting and after close; close() while connecting closes once open', async () => {
    const a = new WebRtcBin();
    const b = new WebRtcBin();
    open.push(a, b);
    const early = a.createDataChannel('early');
    const keep = a.createDataChannel('keep');
    expect(early.readyState).toBe('connecting');
    expect(early.id).toBeNull();
    expect(() => early.send('too soon')).toThrow(InvalidStateError);
    early.close();
    expect(early.readyState).toBe('closing');
    let earlyOpened = false;
    early.on('open', () => (earlyOpened = true));
    const earlyClosed = nextEvent(early, 'close');
    await PeerConnector.pair(a, b);
    await opened(keep);
    await earlyClosed;
    expect(earlyOpened).toBe(false);
    expect(early.readyState).toBe('closed');
    expect(() => early.send('too late')).toThrow(InvalidStateError);
  });

  it('bufferedAmount grows when sending outruns the network, then bufferedamountlow fires as it drains', async () => {
    const { local } = await pair();
    expect(local.bufferedAmount).toBe(0);
    local.bufferedAmountLowThreshold = 256 * 1024;
    expect(local.bufferedAmountLowThreshold).toBe(256 * 1024);
    const low = nextEvent(local, 'bufferedamountlow');
    const chunk = patterned(65536);
    for (let i = 0; i < 128; i++) local.send(chunk); // 8 MiB in one go
    expect(local.bufferedAmount).toBeGreaterThan(1024 * 1024);
    await low;
    expect(local.bufferedAmount).toBeLessThanOrEqual(256 * 1024);
    expect(() => (local.bufferedAmountLowThreshold = -1)).toThrow(TypeError);
  });

  it('WebRtcBin.close() closes its channels at once, even with megabytes still queued', async () => {
    const { a, local } = await pair();
    for (let i = 0; i < 256; i++) local.send(patterned(65536, i)); // 16 MiB: the SCTP encoder blocks on a full buffer
    let closeEvents = 0;
    local.on('close', () => closeEvents++);
    a.close();
    expect(closeEvents).toBe(1);
    expect(local.readyState).toBe('closed');
    expect(() => local.send('x')).toThrow(InvalidStateError);
    local.close();
    expect(closeEvents).toBe(1);
  });

  it('Pipeline.close() of a pipeline holding the webrtcbin closes its channels at once, even with megabytes still queued', async () => {
    const pipeline = new Pipeline('webrtcbin name=peer bundle-policy=max-bundle');
    const b = new WebRtcBin();
    open.push(pipeline, b);
    const a = pipeline.getWebRtcBin('peer')!;
    await pipeline.play(); // webrtcbin makes data channels once started
    const local = a.createDataChannel('attached');
    await PeerConnector.pair(a, b);
    await opened(local);
    for (let i = 0; i < 256; i++) local.send(patterned(65536, i));
    const closed = nextEvent(local, 'close');
    pipeline.close();
    await closed;
    expect(local.readyState).toBe('closed');
    expect(a.closed).toBe(true);
  });

  it('createDataChannel() checks its options', () => {
    const a = new WebRtcBin();
    open.push(a);
    expect(() => a.createDataChannel(1 as unknown as string)).toThrow(TypeError);
    expect(() => a.createDataChannel('x', { maxRetransmits: 1, maxPacketLifeTime: 1 })).toThrow(/cannot both be set/);
    expect(() => a.createDataChannel('x', { maxRetransmits: -1 })).toThrow(TypeError);
    expect(() => a.createDataChannel('x', { maxPacketLifeTime: 1.5 })).toThrow(TypeError);
    expect(() => a.createDataChannel('x', { negotiated: true })).toThrow(/needs an id/);
    expect(() => a.createDataChannel('x', { negotiated: true, id: 65535 })).toThrow(TypeError);
    expect(() => a.createDataChannel('x', { protocol: 5 as unknown as string })).toThrow(TypeError);
    expect(() => a.createDataChannel('x', null as unknown as object)).toThrow(TypeError);
    a.createDataChannel('x', { negotiated: true, id: 3 });
    expect(() => a.createDataChannel('y', { negotiated: true, id: 3 })).toThrow(/refused/);
  });
});
