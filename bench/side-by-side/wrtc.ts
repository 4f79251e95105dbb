// Google's libwebrtc through @roamhq/wrtc (prebuilt inside its npm package), with the W3C API.
import { createRequire } from 'node:module';

import { CandidateGate } from '../support/candidate-gate.js';
import { packageVersion } from './package-version.js';
import { deferred, iceUp, type ConnectedPair, type ConnectionKind, type Stack, withTimeout } from './stack.js';

// The package's own types lean on the DOM library, which this project does not compile with: the part used here.
interface Candidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}
interface Description {
  type: string;
  sdp: string;
}
interface Channel {
  readyState: string;
  bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  binaryType: string;
  send(data: ArrayBufferView): void;
  close(): void;
  addEventListener(type: string, listener: (event: { data?: ArrayBuffer | string }) => void): void;
  removeEventListener(type: string, listener: (event: never) => void): void;
}
interface Peer {
  connectionState: string;
  iceConnectionState: string;
  createDataChannel(label: string): Channel;
  addTrack(track: unknown): unknown;
  createOffer(): Promise<Description>;
  createAnswer(): Promise<Description>;
  setLocalDescription(description: Description): Promise<void>;
  setRemoteDescription(description: Description): Promise<void>;
  addIceCandidate(candidate: Candidate): Promise<void>;
  close(): void;
  addEventListener(type: string, listener: (event: { candidate?: Candidate | null; channel?: Channel }) => void): void;
}
interface Wrtc {
  RTCPeerConnection: new (config: { iceServers: [] }) => Peer;
  nonstandard: { RTCVideoSource: new () => { createTrack(): { stop(): void } } };
}

const wrtc = createRequire(__filename)('@roamhq/wrtc') as Wrtc;

function connectedState(peer: Peer): Promise<void> {
  const done = deferred();
  peer.addEventListener('connectionstatechange', () => peer.connectionState === 'connected' && done.resolve());
  return done.promise;
}

async function connect(kind: ConnectionKind): Promise<ConnectedPair> {
  const started = performance.now();
  const a = new wrtc.RTCPeerConnection({ iceServers: [] });
  const b = new wrtc.RTCPeerConnection({ iceServers: [] });
  const connected = Promise.all([connectedState(a), connectedState(b)]);
  const iceAt = Promise.all(
    [a, b].map((peer) => {
      const done = deferred();
      peer.addEventListener('iceconnectionstatechange', () => iceUp(peer.iceConnectionState) && done.resolve());
      return done.promise;
    }),
  ).then(() => performance.now());
  const errors: unknown[] = [];
  const gates = new Map<Peer, CandidateGate<Candidate>>();
  for (const [self, other] of [[a, b], [b, a]] as const) {
    gates.set(other, new CandidateGate((candidate) => other.addIceCandidate(candidate), (error) => errors.push(error)));
    self.addEventListener('icecandidate', ({ candidate }) => candidate && gates.get(other)!.candidate(candidate));
  }
  const video = kind === 'video' ? new wrtc.nonstandard.RTCVideoSource().createTrack() : undefined;
  const channels: Channel[] = [];
  const close = () => {
    for (const channel of channels) channel.close();
    video?.stop();
    a.close();
    b.close();
  };
  try {
    const announced = deferred<Channel>();
    b.addEventListener('datachannel', ({ channel }) => announced.resolve(channel!));
    const sender = kind === 'data' ? a.createDataChannel('bench') : undefined;
    if (sender !== undefined) channels.push(sender);
    if (video !== undefined) a.addTrack(video);
    const offer = await a.createOffer();
    await a.setLocalDescription(offer);
    await b.setRemoteDescription(offer);
    gates.get(b)!.open();
    const answer = await b.createAnswer();
    await b.setLocalDescription(answer);
    await a.setRemoteDescription(answer);
    gates.get(a)!.open();
    await withTimeout(connected, `both peers connected${errors.length > 0 ? ` (${String(errors[0])})` : ''}`);
    const connectedMs = performance.now() - started;
    const iceConnectedMs = (await withTimeout(iceAt, 'both ICE states connected', 5000)) - started;
    if (sender === undefined) return { connectedMs, iceConnectedMs, close };
    const receiver = await withTimeout(announced.promise, 'the datachannel event');
    channels.push(receiver);
    receiver.binaryType = 'arraybuffer';
    for (const channel of [sender, receiver]) {
      if (channel.readyState !== 'open') await withTimeout(new Promise((resolve) => channel.addEventListener('open', resolve)), 'the channel to open');
    }
    return {
      connectedMs,
      iceConnectedMs,
      channel: {
        send: (message) => sender.send(message),
        bufferedAmount: () => sender.bufferedAmount,
        setLowThreshold: (bytes) => (sender.bufferedAmountLowThreshold = bytes),
        // The event is queued from libwebrtc's thread and can be dispatched before a listener added after a
        // bufferedAmount read that was already stale; a 5 ms check of bufferedAmount stops that from hanging.
        drained: () =>
          new Promise((resolve) => {
            const done = () => {
              clearInterval(check);
              sender.removeEventListener('bufferedamountlow', done);
              resolve();
            };
            const check = setInterval(() => sender.bufferedAmount <= sender.bufferedAmountLowThreshold && done(), 5);
            sender.addEventListener('bufferedamountlow', done);
          }),
        receive: (onBytes) =>
          receiver.addEventListener('message', ({ data }) => onBytes(typeof data === 'string' ? Buffer.byteLength(data) : (data as ArrayBuffer).byteLength)),
      },
      close,
    };
  } catch (error) {
    close();
    throw error;
  }
}

export const libwebrtc: Stack = {
  id: 'wrtc',
  label: () => `@roamhq/wrtc ${packageVersion('@roamhq/wrtc')} (libwebrtc)`,
  hasVideo: true,
  connect,
};
