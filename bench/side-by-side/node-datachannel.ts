// libdatachannel through node-datachannel.
import ndc from 'node-datachannel';

import { CandidateGate } from '../support/candidate-gate.js';
import { packageVersion } from './package-version.js';
import { deferred, type ConnectedPair, type ConnectionKind, type Stack, withTimeout } from './stack.js';

type Peer = InstanceType<typeof ndc.PeerConnection>;
type Channel = ReturnType<Peer['createDataChannel']>;

let pairs = 0;

function iceUpState(peer: Peer): Promise<void> {
  const done = deferred();
  peer.onIceStateChange((state) => (state === 'connected' || state === 'completed') && done.resolve());
  return done.promise;
}

function connectedState(peer: Peer): Promise<void> {
  const done = deferred();
  peer.onStateChange((state) => state === 'connected' && done.resolve());
  return done.promise;
}

async function connect(kind: ConnectionKind): Promise<ConnectedPair> {
  const started = performance.now();
  const id = ++pairs;
  const a = new ndc.PeerConnection(`a${id}`, { iceServers: [] });
  const b = new ndc.PeerConnection(`b${id}`, { iceServers: [] });
  const connected = Promise.all([connectedState(a), connectedState(b)]);
  const iceAt = Promise.all([iceUpState(a), iceUpState(b)]).then(() => performance.now());
  // Each side takes candidates only once its remote description is set.
  const gates = new Map<Peer, CandidateGate<[string, string]>>();
  for (const [self, other] of [[a, b], [b, a]] as const) {
    gates.set(other, new CandidateGate(([candidate, mid]) => other.addRemoteCandidate(candidate, mid)));
    self.onLocalDescription((sdp, type) => {
      other.setRemoteDescription(sdp, type);
      gates.get(other)!.open();
    });
    self.onLocalCandidate((candidate, mid) => gates.get(other)!.candidate([candidate, mid]));
  }
  const channels: Channel[] = [];
  const close = () => {
    for (const channel of channels) channel.close();
    a.close();
    b.close();
  };
  try {
    if (kind === 'video') {
      const video = new ndc.Video('video', 'SendOnly');
      video.addVP8Codec(96);
      a.addTrack(video);
      a.setLocalDescription();
      await withTimeout(connected, 'both peers connected');
      return { connectedMs: performance.now() - started, iceConnectedMs: (await withTimeout(iceAt, 'both ICE states connected', 5000)) - started, close };
    }
    const announced = deferred<Channel>();
    b.onDataChannel(announced.resolve);
    const sender = a.createDataChannel('bench');
    channels.push(sender);
    const senderOpen = deferred();
    if (sender.isOpen()) senderOpen.resolve();
    else sender.onOpen(senderOpen.resolve);
    await withTimeout(connected, 'both peers connected');
    const connectedMs = performance.now() - started;
    await withTimeout(senderOpen.promise, 'the sending channel to open');
    const receiver = await withTimeout(announced.promise, 'onDataChannel');
    channels.push(receiver);
    let onLow: (() => void) | undefined;
    sender.onBufferedAmountLow(() => {
      const resolve = onLow;
      onLow = undefined;
      resolve?.();
    });
    return {
      connectedMs,
      iceConnectedMs: (await withTimeout(iceAt, 'both ICE states connected', 5000)) - started,
      channel: {
        send: (message) => sender.sendMessageBinary(message),
        bufferedAmount: () => sender.bufferedAmount(),
        setLowThreshold: (bytes) => sender.setBufferedAmountLowThreshold(bytes),
        drained: () => new Promise((resolve) => (onLow = resolve)),
        receive: (onBytes) =>
          receiver.onMessage((data) => onBytes(typeof data === 'string' ? Buffer.byteLength(data) : (data as Buffer | ArrayBuffer).byteLength)),
      },
      close,
    };
  } catch (error) {
    close();
    throw error;
  }
}

export const nodeDatachannel: Stack = {
  id: 'node-datachannel',
  label: () => `node-datachannel ${packageVersion('node-datachannel')} (libdatachannel ${ndc.getLibraryVersion()})`,
  hasVideo: true,
  connect,
};
