// The rollback cases of the Web Platform Tests (RTCPeerConnection-setLocalDescription-rollback
// and -setRemoteDescription-rollback) that apply to this API, written again here
// for WebRtcBin, and then media flowing after each rollback.
import { describe, expect, it } from 'vitest';

import { InvalidStateError, OperationError, type SessionDescription, type SignalingState, WebRtcBin } from '../lib/index.js';
import { rendered, VP8_SOURCE } from './support/media.js';
import { until } from './support/wait.js';
import { useWebRtcBinPairs } from './support/webrtcbins.js';

const pair = useWebRtcBinPairs();

function states(webrtcbin: WebRtcBin): SignalingState[] {
  const seen: SignalingState[] = [];
  webrtcbin.on('signalingstatechange', (state) => seen.push(state));
  return seen;
}

/** Trickles each side's candidates to the other, as a signalling channel would. */
function trickle(a: WebRtcBin, b: WebRtcBin): Error[] {
  const errors: Error[] = [];
  a.on('icecandidate', (candidate) => void b.addIceCandidate(candidate).catch((error: Error) => errors.push(error)));
  b.on('icecandidate', (candidate) => void a.addIceCandidate(candidate).catch((error: Error) => errors.push(error)));
  return errors;
}

/** `offerer` sends video to `answerer` through a full offer/answer; resolves once frames are decoded. */
async function negotiateVideo(offerer: WebRtcBin, answerer: WebRtcBin, offer?: SessionDescription): Promise<void> {
  const local = offer ?? (await offerer.createOffer());
  await offerer.setLocalDescription(local);
  await answerer.setRemoteDescription(offerer.localDescription!);
  await answerer.setLocalDescription();
  await offerer.setRemoteDescription(answerer.localDescription!);
}

function decodeVideo(webrtcbin: WebRtcBin, sink = 'frames'): void {
  webrtcbin.on('track', (track) => track.link(`rtpvp8depay ! vp8dec ! fakesink name=${sink}`));
}

describe('setLocalDescription rollback', () => {
  it('from have-local-offer goes back to stable, with a signalingstatechange, and clears the local description', async () => {
    const [a] = pair();
    a.addTransceiver('video');
    const seen = states(a);
    await a.setLocalDescription(await a.createOffer());
    expect(a.signalingState).toBe('have-local-offer');
    await a.setLocalDescription({ type: 'rollback' });
    expect(a.signalingState).toBe('stable');
    expect(a.localDescription).toBeNull();
    expect(a.pendingLocalDescription).toBeNull();
    expect(seen).toEqual(['have-local-offer', 'stable']);
  });

  it('from stable, or after the answer was applied, is an InvalidStateError', async () => {
    const [a, b] = pair();
    await expect(a.setLocalDescription({ type: 'rollback' })).rejects.toBeInstanceOf(InvalidStateError);
    a.addTransceiver('video');
    await negotiateVideo(a, b);
    await expect(a.setLocalDescription({ type: 'rollback' })).rejects.toBeInstanceOf(InvalidStateError);
    await expect(b.setLocalDescription({ type: 'rollback' })).rejects.toBeInstanceOf(InvalidStateError);
    expect(a.signalingState).toBe('stable');
  });

  it('ignores the sdp it is given', async () => {
    const [a] = pair();
    a.addTransceiver('video');
    await a.setLocalDescription();
    await a.setLocalDescription({ type: 'rollback', sdp: 'invalid' });
    expect(a.signalingState).toBe('stable');
  });

  it('before the first negotiation: the same WebRtcBin then negotiates and its media flows', async () => {
    const [a, b] = pair();
    a.addTrack(VP8_SOURCE);
    decodeVideo(b);
    const errors = trickle(a, b);
    await a.setLocalDescription();
    await a.setLocalDescription({ type: 'rollback' });
    await negotiateVideo(a, b);
    await until(() => rendered(b.pipeline, 'frames') >= 10, 'frames decoded after the rollback');
    expect(errors).toEqual([]);
  });

  it('of a re-offer keeps the connection: media flows on, and a new offer then succeeds', async () => {
    const [a, b] = pair();
    a.addTrack(VP8_SOURCE);
    decodeVideo(b);
    const errors = trickle(a, b);
    await negotiateVideo(a, b);
    await until(() => rendered(b.pipeline, 'frames') >= 5, 'frames decoded');
    await a.setLocalDescription();
    expect(a.signalingState).toBe('have-local-offer');
    await a.setLocalDescription({ type: 'rollback' });
    expect(a.signalingState).toBe('stable');
    expect(a.currentLocalDescription).not.toBeNull();
    const before = rendered(b.pipeline, 'frames');
    await until(() => rendered(b.pipeline, 'frames') >= before + 10, 'frames keep coming after the rollback');
    await negotiateVideo(a, b);
    expect([a.signalingState, b.signalingState]).toEqual(['stable', 'stable']);
    expect(a.connectionState).toBe('connected');
    expect(errors).toEqual([]);
  });
});

describe('setRemoteDescription rollback', () => {
  it('from stable is an InvalidStateError', async () => {
    const [a] = pair();
    await expect(a.setRemoteDescription({ type: 'rollback', sdp: '' })).rejects.toBeInstanceOf(InvalidStateError);
  });

  it('from have-remote-offer goes back to stable and ignores the sdp it is given', async () => {
    const [a, b] = pair();
    b.addTransceiver('video');
    const seen = states(a);
    await a.setRemoteDescription(await b.createOffer());
    expect(a.signalingState).toBe('have-remote-offer');
    await a.setRemoteDescription({ type: 'rollback', sdp: 'invalid' });
    expect(a.signalingState).toBe('stable');
    expect(a.remoteDescription).toBeNull();
    expect(seen).toEqual(['have-remote-offer', 'stable']);
  });

  it('a remote offer in have-local-offer rolls the local offer back first (implicit rollback), and the answer carries media', async () => {
    const [a, b] = pair();
    a.addTrack(VP8_SOURCE);
    b.addTrack(VP8_SOURCE);
    decodeVideo(b);
    const seen = states(b);
    // Candidates of b's offer, which is rolled back, never reach a (a perfect-negotiation peer ignores them).
    const errors: Error[] = [];
    a.on('icecandidate', (candidate) => void b.addIceCandidate(candidate).catch((error: Error) => errors.push(error)));
    b.on('icecandidate', (candidate) => {
      if (b.localDescription?.type === 'answer') a.addIceCandidate(candidate).catch((error: Error) => errors.push(error));
    });
    await b.setLocalDescription();
    await negotiateVideo(a, b);
    expect(seen).toEqual(['have-local-offer', 'stable', 'have-remote-offer', 'stable']);
    await until(() => rendered(b.pipeline, 'frames') >= 10, 'frames decoded');
    expect(errors).toEqual([]);
  });

  it('a local offer created before a remote offer that was rolled back can still be applied', async () => {
    const [a, b] = pair();
    a.addTrack(VP8_SOURCE);
    b.addTransceiver('video');
    decodeVideo(b);
    const errors = trickle(a, b);
    const early = await a.createOffer();
    await a.setRemoteDescription(await b.createOffer());
    await a.setRemoteDescription({ type: 'rollback' });
    await negotiateVideo(a, b, early);
    await until(() => rendered(b.pipeline, 'frames') >= 10, 'frames decoded');
    expect(errors).toEqual([]);
  });

  it('of a remote re-offer is refused with OperationError (GStreamer 1.22 cannot undo it), and the connection stays up', async () => {
    const [a, b] = pair();
    a.addTrack(VP8_SOURCE);
    decodeVideo(b);
    trickle(a, b);
    await negotiateVideo(a, b);
    await a.setLocalDescription();
    await b.setRemoteDescription(a.localDescription!);
    await expect(b.setRemoteDescription({ type: 'rollback' })).rejects.toBeInstanceOf(OperationError);
    expect(b.signalingState).toBe('have-remote-offer');
    await b.setLocalDescription();
    await a.setRemoteDescription(b.localDescription!);
    const before = rendered(b.pipeline, 'frames');
    await until(() => rendered(b.pipeline, 'frames') >= before + 10, 'frames keep coming');
  });
});
