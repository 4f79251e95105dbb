// Issue 10 case 9: with many pairs negotiating at once in one process, a pair
// could reach 'connected' while its data channel never opened. GStreamer 1.22
// shares a usrsctp association between the SCTP elements of every webrtcbin in
// the process that drew the same random `sctp-association-id`; the library now
// gives each webrtcbin an id of its own, and a channel that still does not open
// within DataChannel.openTimeout of the connection fails with an OperationError
// and closes, as a browser fails a channel whose SCTP association failed.
import { afterEach, describe, expect, it } from 'vitest';

import { DataChannel, OperationError, PeerConnector, WebRtcBin } from '../lib/index.js';
import { nativePipeline } from '../lib/core/pipeline-handle.js';
import { openChannelPair } from './support/data-channel.js';
import { nextEvent, until } from './support/wait.js';

const open: { close(): void }[] = [];
const defaultOpenTimeout = DataChannel.openTimeout;
afterEach(() => {
  DataChannel.openTimeout = defaultOpenTimeout;
  for (const thing of open.splice(0)) thing.close();
});

/** The SCTP association ids of a standalone WebRtcBin's SCTP encoder and decoder. */
function associationIds(webrtcbin: WebRtcBin): number[] {
  const pipeline = nativePipeline(webrtcbin.pipeline);
  return [...pipeline.elementsByFactory('sctpenc'), ...pipeline.elementsByFactory('sctpdec')].map((element) => element.get('sctp-association-id') as number);
}

describe('data channel opening', () => {
  it('20 pairs negotiating at once: every channel opens on both sides, each webrtcbin with an SCTP association of its own', async () => {
    const pairs = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const pair = await openChannelPair();
        open.push(pair.a, pair.b);
        return pair;
      }),
    );
    for (const { local, remote } of pairs) expect([local.readyState, remote.readyState]).toEqual(['open', 'open']);
    const ids = pairs.flatMap(({ a, b }) => [a, b]).map(associationIds);
    // Encoder and decoder of one webrtcbin share its id; no two webrtcbins share one.
    for (const own of ids) expect(new Set(own).size).toBe(1);
    const own = ids.map(([id]) => id);
    expect(new Set(own).size).toBe(40);
    // Handed out by the library in turn, not drawn at random by webrtcbin (40 random ids would almost never be consecutive).
    expect(Math.max(...own) - Math.min(...own)).toBe(39);
  }, 60_000);

  it('a channel that does not open once the connection is up fails with an OperationError and closes (two webrtcbins on one SCTP association, as GStreamer 1.22 could pick)', async () => {
    DataChannel.openTimeout = 2000;
    const first = await openChannelPair();
    open.push(first.a, first.b);
    const [takenId] = associationIds(first.a);

    const a = new WebRtcBin();
    const b = new WebRtcBin();
    open.push(a, b);
    const channel = a.createDataChannel('late');
    const events: string[] = [];
    const errors: unknown[] = [];
    channel.on('open', () => events.push('open'));
    channel.on('error', (error) => {
      events.push('error');
      errors.push(error);
    });
    const closed = nextEvent(channel, 'close');
    channel.on('close', () => events.push('close'));
    // The collision GStreamer 1.22 makes by chance (1 in 65535 per pair of webrtcbins), made on purpose:
    // b's SCTP elements exist (stopped until DTLS is up) once it has the offer.
    a.on('icecandidate', (candidate) => void (candidate && b.addIceCandidate(candidate).catch(() => undefined)));
    b.on('icecandidate', (candidate) => void (candidate && a.addIceCandidate(candidate).catch(() => undefined)));
    const offer = await a.createOffer();
    await a.setLocalDescription(offer);
    await b.setRemoteDescription(offer);
    const pipeline = nativePipeline(b.pipeline);
    for (const element of [...pipeline.elementsByFactory('sctpenc'), ...pipeline.elementsByFactory('sctpdec')]) element.set('sctp-association-id', takenId);
    const answer = await b.createAnswer();
    await b.setLocalDescription(answer);
    await a.setRemoteDescription(answer);
    await until(() => a.connectionState === 'connected', 'the pair connects');
    await closed;
    expect(events).toEqual(['error', 'close']);
    expect(errors[0]).toBeInstanceOf(OperationError);
    expect((errors[0] as Error).message).toBe('data channel "late" did not open within 2000 ms of the connection being up: its SCTP association failed');
    expect(channel.readyState).toBe('closed');
    expect(() => channel.send('x')).toThrow(/closed/);
    // The connection itself stays up: only the channel failed.
    expect(a.connectionState).toBe('connected');
  }, 30_000);

  it('a channel that opens in time is not failed later', async () => {
    DataChannel.openTimeout = 300;
    const pair = await openChannelPair();
    open.push(pair.a, pair.b);
    const errors: unknown[] = [];
    pair.local.on('error', (error) => errors.push(error));
    // Twice the bound: a timer left armed after 'open' would have fired by now.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(errors).toEqual([]);
    expect(pair.local.readyState).toBe('open');
  });
});
