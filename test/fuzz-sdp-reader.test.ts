// The SDP guards read descriptions through the library's one SDP reader
// (readSdp, sdp-transform). sdp-transform turns numeric-looking values into
// numbers (`a=mid:0`, `a=group:BUNDLE 0`); real offers from Chromium, werift
// and this library, and a one-mid bundle, must pass the guards and be answered.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { OperationError, WebRtcBin } from '../lib/index.js';

const SEEDS = join(__dirname, 'fixtures', 'fuzz', 'seeds');
const open: WebRtcBin[] = [];
afterEach(() => {
  for (const webrtcbin of open.splice(0)) webrtcbin.close();
});

function answerer(): WebRtcBin {
  const webrtcbin = new WebRtcBin();
  open.push(webrtcbin);
  return webrtcbin;
}

describe('SDP guards on the one SDP reader', () => {
  it.each(['chromium-offer-av-data.sdp', 'werift-offer-av-data.sdp', 'gst-offer-av-data.sdp'])('answers the real offer %s', async (seed) => {
    const sdp = readFileSync(join(SEEDS, seed), 'utf8');
    const webrtcbin = answerer();
    await webrtcbin.setRemoteDescription({ type: 'offer', sdp });
    const answer = await webrtcbin.createAnswer();
    expect(answer.sdp).toMatch(/m=application/);
  });

  it('answers a data channel offer bundled under the single numeric mid 0 (sdp-transform reads the group as a number)', async () => {
    const offerer = answerer();
    offerer.createDataChannel('chat');
    const offer = await offerer.createOffer();
    const mid = /a=mid:(\S+)/.exec(offer.sdp)![1];
    const sdp = offer.sdp.replaceAll(`a=mid:${mid}`, 'a=mid:0').replace(/a=group:BUNDLE \S+/, 'a=group:BUNDLE 0');
    expect(sdp).toMatch(/a=group:BUNDLE 0\r?\n/);
    const webrtcbin = answerer();
    await webrtcbin.setRemoteDescription({ type: 'offer', sdp });
    expect((await webrtcbin.createAnswer()).sdp).toMatch(/a=mid:0/);
  });

  it('still counts repeats that sdp-transform folds: two a=mid lines on one m-line are refused', async () => {
    const sdp = readFileSync(join(SEEDS, 'werift-offer-av-data.sdp'), 'utf8').replace(/a=mid:2(\r?\n)/, 'a=mid:2$1a=mid:3$1');
    const error = await answerer()
      .setRemoteDescription({ type: 'offer', sdp })
      .then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as Error).message).toBe('m-line 2 has 2 a=mid attributes; an m-line has one');
  });
});
