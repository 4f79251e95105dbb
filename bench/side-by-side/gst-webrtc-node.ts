// This library: two WebRtcBins paired by PeerConnector (which holds candidates until their description is set).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { type DataChannel, gstreamerVersion, PeerConnector, Pipeline, WebRtcBin } from '../../lib/index.js';
import { deferred, iceUp, type ChannelEnds, type ConnectedPair, type ConnectionKind, type Stack, withTimeout } from './stack.js';

/** The video sender: the same live VP8 source as figures 1 and 2, without audio. */
const VIDEO_SENDER =
  'videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=30/1 ' +
  '! vp8enc deadline=1 ! rtpvp8pay pt=96 ! webrtcbin name=tx bundle-policy=max-bundle';

function bothConnected(peers: WebRtcBin[]): Promise<void> {
  return Promise.all(
    peers.map((peer) => {
      const done = deferred();
      if (peer.connectionState === 'connected') done.resolve();
      peer.on('connectionstatechange', (state) => state === 'connected' && done.resolve());
      return done.promise;
    }),
  ).then(() => undefined);
}

/** When both peers' iceConnectionState is up (connected or completed). */
function bothIceUp(peers: WebRtcBin[]): Promise<number> {
  return Promise.all(
    peers.map((peer) => {
      const done = deferred();
      if (iceUp(peer.iceConnectionState)) done.resolve();
      peer.on('iceconnectionstatechange', (state) => iceUp(state) && done.resolve());
      return done.promise;
    }),
  ).then(() => performance.now());
}

function channelEnds(sender: DataChannel, receiver: DataChannel): ChannelEnds {
  return {
    send: (message) => sender.send(message),
    bufferedAmount: () => sender.bufferedAmount,
    setLowThreshold: (bytes) => (sender.bufferedAmountLowThreshold = bytes),
    drained: () => new Promise((resolve) => sender.once('bufferedamountlow', resolve)),
    receive: (onBytes) => receiver.on('message', (data) => onBytes(typeof data === 'string' ? Buffer.byteLength(data) : data.length)),
  };
}

async function connect(kind: ConnectionKind): Promise<ConnectedPair> {
  const started = performance.now();
  const txPipeline = kind === 'video' ? new Pipeline(VIDEO_SENDER) : undefined;
  const a = txPipeline?.getWebRtcBin('tx') ?? new WebRtcBin();
  const b = new WebRtcBin();
  const close = () => {
    txPipeline?.close();
    a.close();
    b.close();
  };
  try {
    const connected = bothConnected([a, b]);
    const iceAt = bothIceUp([a, b]);
    if (kind === 'video') {
      b.on('track', (track) => void track.link('fakesink sync=false async=false'));
      const negotiated = PeerConnector.pair(a, b);
      await txPipeline!.play();
      await withTimeout(negotiated, 'negotiation');
      await withTimeout(connected, 'both peers connected');
      return { connectedMs: performance.now() - started, iceConnectedMs: (await withTimeout(iceAt, 'ICE up on both')) - started, close };
    }
    const sender = a.createDataChannel('bench');
    const announced = deferred<DataChannel>();
    b.once('datachannel', announced.resolve);
    const senderOpen = deferred();
    sender.once('open', () => senderOpen.resolve());
    await withTimeout(PeerConnector.pair(a, b), 'negotiation');
    await withTimeout(connected, 'both peers connected');
    const connectedMs = performance.now() - started;
    const receiver = await withTimeout(announced.promise, 'the datachannel event');
    if (receiver.readyState !== 'open') await withTimeout(new Promise<void>((resolve) => receiver.once('open', () => resolve())), 'the receiving channel to open');
    await withTimeout(senderOpen.promise, 'the sending channel to open');
    const iceConnectedMs = (await withTimeout(iceAt, 'ICE up on both')) - started;
    return { connectedMs, iceConnectedMs, channel: channelEnds(sender, receiver), close };
  } catch (error) {
    close();
    throw error;
  }
}

export const gstWebrtcNode: Stack = {
  id: 'gst-webrtc-node',
  label: () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string };
    const gst = gstreamerVersion();
    return `gst-webrtc-node ${version} (GStreamer ${gst.major}.${gst.minor}.${gst.micro} webrtcbin)`;
  },
  hasVideo: true,
  connect,
};
