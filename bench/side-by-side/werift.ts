// werift, the pure TypeScript stack.
import { RTCPeerConnection, type RTCDataChannel, type RTCIceCandidate } from 'werift';

import { startLoopbackStunServer, type LoopbackStunServer } from '../../test/support/werift.js';
import { CandidateGate } from '../support/candidate-gate.js';
import { packageVersion } from './package-version.js';
import { deferred, iceUp, type ConnectedPair, type ConnectionKind, type Stack, withTimeout } from './stack.js';

function connectedState(peer: RTCPeerConnection): Promise<void> {
  const done = deferred();
  peer.connectionStateChange.subscribe((state) => state === 'connected' && done.resolve());
  return done.promise;
}

let stun: Promise<LoopbackStunServer> | undefined;

/**
 * werift always queries a STUN server while it gathers (a public one when none is
 * configured, even with an empty list) and waits up to 5 s for its answer; one on
 * 127.0.0.1, started once per process, keeps everything here and answers at once.
 */
function loopbackStun(): Promise<LoopbackStunServer> {
  stun ??= startLoopbackStunServer();
  return stun;
}

async function connect(kind: ConnectionKind): Promise<ConnectedPair> {
  const iceServers = [{ urls: (await loopbackStun()).url }];
  const started = performance.now();
  const a = new RTCPeerConnection({ iceServers });
  const b = new RTCPeerConnection({ iceServers });
  const connected = Promise.all([connectedState(a), connectedState(b)]);
  const iceAt = Promise.all(
    [a, b].map((peer) => {
      const done = deferred();
      peer.iceConnectionStateChange.subscribe((state) => iceUp(state) && done.resolve());
      return done.promise;
    }),
  ).then(() => performance.now());
  const errors: unknown[] = [];
  const gates = new Map<RTCPeerConnection, CandidateGate<RTCIceCandidate>>();
  for (const [self, other] of [[a, b], [b, a]] as const) {
    gates.set(other, new CandidateGate((candidate) => other.addIceCandidate(candidate), (error) => errors.push(error)));
    self.onIceCandidate.subscribe((candidate) => candidate && gates.get(other)!.candidate(candidate));
  }
  const close = async () => {
    await Promise.all([a.close(), b.close()]).catch(() => undefined);
  };
  try {
    const announced = deferred<RTCDataChannel>();
    b.onDataChannel.subscribe(announced.resolve);
    const sender = kind === 'data' ? a.createDataChannel('bench') : undefined;
    if (kind === 'video') a.addTransceiver('video', { direction: 'sendonly' });
    const offer = await a.createOffer();
    await a.setLocalDescription(offer);
    await b.setRemoteDescription(a.localDescription!);
    gates.get(b)!.open();
    const answer = await b.createAnswer();
    await b.setLocalDescription(answer);
    await a.setRemoteDescription(b.localDescription!);
    gates.get(a)!.open();
    await withTimeout(connected, `both peers connected${errors.length > 0 ? ` (${String(errors[0])})` : ''}`);
    const connectedMs = performance.now() - started;
    const iceConnectedMs = (await withTimeout(iceAt, 'both ICE states connected', 5000)) - started;
    if (sender === undefined) return { connectedMs, iceConnectedMs, close };
    const receiver = await withTimeout(announced.promise, 'onDataChannel');
    for (const channel of [sender, receiver]) {
      if (channel.readyState !== 'open') await withTimeout(new Promise((resolve) => channel.stateChanged.subscribe((state) => state === 'open' && resolve(undefined))), 'the channel to open');
    }
    return {
      connectedMs,
      iceConnectedMs,
      channel: {
        send: (message) => sender.send(message),
        bufferedAmount: () => sender.bufferedAmount,
        setLowThreshold: (bytes) => (sender.bufferedAmountLowThreshold = bytes),
        drained: () => new Promise((resolve) => sender.bufferedAmountLow.once(() => resolve())),
        receive: (onBytes) => receiver.onMessage.subscribe((data) => onBytes(typeof data === 'string' ? Buffer.byteLength(data) : data.length)),
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export const werift: Stack = {
  id: 'werift',
  label: () => `werift ${packageVersion('werift')}`,
  hasVideo: true,
  connect,
};
