#!/usr/bin/env node
// An RTSP camera to every browser that opens the page: one connection to the
// camera, its H.264 passed through (never decoded or encoded), reconnection with
// backoff when the camera drops, while the browsers stay connected.
//
//   node examples/rtsp-to-webrtc.mjs rtsp://user:password@camera.local/stream
//
// Options: --port <n> (default 8080; 0 picks one), --host <addr> (default
// 127.0.0.1; 0.0.0.0 for the LAN), --transport tcp|udp|auto (default tcp),
// --latency <ms> (default 200).
import http from 'node:http';
import { parseArgs } from 'node:util';
import { redactUrl, RtspBridge, SignallingClient, SignallingServer, ViewerSessions } from 'gst-webrtc-node';

import { createPageHandler, SIGNALLING_PATH } from './demo/page.mjs';

const time = () => new Date().toTimeString().slice(0, 8);
const log = (line) => console.log(`${time()} ${line}`);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    transport: { type: 'string', default: 'tcp' },
    latency: { type: 'string', default: '200' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help || positionals.length !== 1) {
  console.log('usage: node examples/rtsp-to-webrtc.mjs <rtsp://camera/stream> [--port 8080] [--host 127.0.0.1] [--transport tcp|udp|auto] [--latency 200]');
  process.exit(values.help ? 0 : 2);
}

let bridge;
try {
  bridge = new RtspBridge({ url: positionals[0], transport: values.transport, latency: Number(values.latency) });
} catch (error) {
  console.error(`rtsp-to-webrtc: ${error.message}`);
  process.exit(2);
}
bridge.on('reconnecting', (attempt, delay, reason) => log(`${reason.message}; reconnecting in ${delay} ms (attempt ${attempt})`));
bridge.on('reconnected', (attempts) => log(`camera back after ${attempts} attempt(s); viewers resume at its next keyframe`));
bridge.on('error', (error) => log(`error: ${error.message}`));

log(`connecting to ${redactUrl(positionals[0])}`);
try {
  await bridge.start();
} catch (error) {
  console.error(`rtsp-to-webrtc: ${error.message}`);
  process.exit(1);
}
log('receiving H.264 from the camera');

// The page (the demo's viewer page) and the signalling server on one port.
let sessions;
const server = http.createServer(createPageHandler({ iceServers: [], status: () => ({ viewers: sessions?.status() ?? [], frames: bridge.fanOut.framesProduced.video }) }));
const signalling = new SignallingServer({ server, host: values.host, port: Number(values.port), path: SIGNALLING_PATH });
const address = await signalling.listen();
const local = ['0.0.0.0', '::'].includes(address.address) ? '127.0.0.1' : address.address;
const client = new SignallingClient();
await client.connect(`ws://${local.includes(':') ? `[${local}]` : local}:${address.port}${SIGNALLING_PATH}`, { role: 'gstreamer', name: 'RTSP bridge' });
sessions = new ViewerSessions(bridge, client);
sessions.on('viewerjoined', (peer) => log(`[${peer.peerId.slice(0, 6)}] ${peer.name ?? 'browser'} joined`));
sessions.on('viewerleft', (peerId, reason) => log(`[${peerId.slice(0, 6)}] left (${reason})`));
sessions.on('error', (error, peerId) => log(`[${peerId.slice(0, 6)}] ${error.message}`));
await sessions.start();
console.log(`rtsp-to-webrtc: open http://${local.includes(':') ? `[${local}]` : local}:${address.port}/ in a browser`);

const stop = async (signal) => {
  log(`${signal}: shutting down`);
  process.once(signal, () => process.exit(130));
  await sessions.close();
  await client.close();
  await signalling.close();
  server.closeAllConnections();
  server.close();
  bridge.close();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
