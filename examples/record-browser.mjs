#!/usr/bin/env node
// Records what browsers send: open the page, press "Send camera and
// microphone", and the camera and microphone are written to a WebM file (VP8
// and Opus as the browser sent them, never decoded). The file is finished when
// the page closes, also when the browser vanishes without a word.
//
//   node examples/record-browser.mjs [--dir recordings]
//
// Options: --dir <directory> (default ./recordings), --format webm|mkv
// (default webm; mkv also takes H.264), --port <n> (default 8080; 0 picks one),
// --host <addr> (default 127.0.0.1; browsers on other machines need https for
// the camera, see docs/demo.md).
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PeerSession, SignallingClient, SignallingServer, WebRtcBin, WebRtcRecorder } from 'gst-webrtc-node';

import { createPageHandler, SIGNALLING_PATH } from './demo/page.mjs';

const time = () => new Date().toTimeString().slice(0, 8);
const log = (line) => console.log(`${time()} ${line}`);

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: 'recordings' },
    format: { type: 'string', default: 'webm' },
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: node examples/record-browser.mjs [--dir recordings] [--format webm|mkv] [--port 8080] [--host 127.0.0.1]');
  process.exit(0);
}
if (values.format !== 'webm' && values.format !== 'mkv') {
  console.error(`record-browser: --format must be webm or mkv, not ${values.format}`);
  process.exit(2);
}
const directory = resolve(values.dir);
mkdirSync(directory, { recursive: true });

// What we ask browsers to send: WebM holds VP8 and Opus; Matroska also H.264.
const VIDEO_CAPS =
  values.format === 'webm'
    ? 'application/x-rtp, media=video, encoding-name=VP8, payload=96, clock-rate=90000'
    : 'application/x-rtp, media=video, encoding-name=VP8, payload=96, clock-rate=90000; ' +
      'application/x-rtp, media=video, encoding-name=H264, payload=102, clock-rate=90000, packetization-mode=(string)1, profile-level-id=(string)42e01f';

/** @type {Map<string, { recorder: WebRtcRecorder, webrtcbin: WebRtcBin }>} */
const calls = new Map();

/** Receives one browser's camera and microphone and records them. */
async function record(peer) {
  if (calls.has(peer.peerId)) return;
  const tag = `[${peer.peerId.slice(0, 6)}]`;
  const webrtcbin = new WebRtcBin({ latency: 200 });
  webrtcbin.addTransceiver(VIDEO_CAPS, { direction: 'recvonly' });
  webrtcbin.addTransceiver('audio', { direction: 'recvonly' });
  const path = join(directory, `${new Date().toISOString().replace(/[:.]/g, '-')}-${peer.peerId.slice(0, 6)}.${values.format}`);
  const recorder = new WebRtcRecorder(webrtcbin, { path });
  calls.set(peer.peerId, { recorder, webrtcbin });
  log(`${tag} ${peer.name ?? 'browser'} joined: press "Send camera and microphone" on the page to record`);
  recorder.on('start', (tracks) => log(`${tag} recording ${tracks.map((t) => `${t.kind} (${t.encodingName})`).join(' and ')} to ${path}`));
  recorder.on('warning', (warning) => log(`${tag} ${warning.message}`));
  webrtcbin.pipeline.on("error", (error) => log(`${tag} error: ${error.message} ${error.debug}`));
  recorder.on('stop', (result) => {
    if (result.tracks.length === 0) log(`${tag} nothing was sent, nothing recorded`);
    else log(`${tag} saved ${result.path} (${(result.bytes / 1e6).toFixed(1)} MB${result.finalized ? '' : ', cut short'}; ${result.reason})`);
  });
  let session;
  try {
    session = await PeerSession.start(webrtcbin, client, peer.peerId, { role: 'offerer' });
  } catch (error) {
    await hangUp(peer.peerId);
    throw error;
  }
  session.on('error', (error) => log(`${tag} ${error.message}`));
  session.once('ended', async (reason) => {
    log(`${tag} session ended (${reason})`);
    await hangUp(peer.peerId);
  });
}

/** Finishes the file first, then closes the connection. */
async function hangUp(peerId) {
  const call = calls.get(peerId);
  if (call === undefined) return;
  calls.delete(peerId);
  await call.recorder.stop();
  call.webrtcbin.close();
}

const server = http.createServer(
  createPageHandler({
    iceServers: [],
    status: () => ({ recordings: [...calls.entries()].map(([peerId, call]) => ({ peerId, state: call.recorder.state, path: call.recorder.path })) }),
  }),
);
const signalling = new SignallingServer({ server, host: values.host, port: Number(values.port), path: SIGNALLING_PATH });
const address = await signalling.listen();
const local = ['0.0.0.0', '::'].includes(address.address) ? '127.0.0.1' : address.address;
const hostPart = local.includes(':') ? `[${local}]` : local;
const client = new SignallingClient();
await client.connect(`ws://${hostPart}:${address.port}${SIGNALLING_PATH}`, { role: 'gstreamer', name: 'recorder' });
const welcome = (peer) => {
  if (peer.role === 'viewer') record(peer).catch((error) => log(`[${peer.peerId.slice(0, 6)}] ${error.message}`));
};
client.on('peerjoined', welcome);
for (const peer of await client.listPeers()) welcome(peer);
console.log(`record-browser: open http://${hostPart}:${address.port}/ in a browser; recordings go to ${directory}`);

const stop = async (signal) => {
  log(`${signal}: finishing the recordings`);
  process.once(signal, () => process.exit(130));
  await Promise.all([...calls.keys()].map(hangUp));
  await client.close();
  await signalling.close();
  server.closeAllConnections();
  server.close();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
