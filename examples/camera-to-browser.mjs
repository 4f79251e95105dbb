#!/usr/bin/env node
// A camera to several browsers, encoded once: the first V4L2 camera (or a
// moving test pattern when there is none) goes through one H.264 (or VP8)
// encoder, and every browser that opens the page gets that stream.
//
//   node examples/camera-to-browser.mjs
//
// Options: --device /dev/videoN (default: the first one there is), --source
// <fragment> (any gst-launch fragment with raw video output instead of a
// camera), --codec h264|vp8 (default h264), --bitrate <kbit/s> (default 1500),
// --audio <fragment> (raw audio to send as Opus, e.g. pulsesrc; default none),
// --port <n> (default 8080; 0 picks one), --host <addr> (default 127.0.0.1).
import { readdirSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { MediaFanOut, SignallingClient, SignallingServer, ViewerSessions } from 'gst-webrtc-node';

import { createPageHandler, SIGNALLING_PATH } from './demo/page.mjs';

const time = () => new Date().toTimeString().slice(0, 8);
const log = (line) => console.log(`${time()} ${line}`);

const { values } = parseArgs({
  options: {
    device: { type: 'string' },
    source: { type: 'string' },
    codec: { type: 'string', default: 'h264' },
    bitrate: { type: 'string', default: '1500' },
    audio: { type: 'string' },
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: node examples/camera-to-browser.mjs [--device /dev/videoN | --source <fragment>] [--codec h264|vp8] [--bitrate 1500] [--audio <fragment>] [--port 8080] [--host 127.0.0.1]');
  process.exit(0);
}

/** The camera to use: --device, else the first /dev/videoN, else none. */
function findCamera() {
  if (values.device !== undefined) return values.device;
  try {
    return readdirSync('/dev')
      .filter((name) => /^video\d+$/.test(name))
      .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
      .map((name) => `/dev/${name}`)[0];
  } catch {
    return undefined;
  }
}

const TEST_PATTERN = 'videotestsrc is-live=true pattern=ball motion=sweep ! video/x-raw,width=640,height=480,framerate=30/1';
const camera = values.source === undefined ? findCamera() : undefined;
const source = values.source ?? (camera !== undefined ? `v4l2src device=${camera}` : TEST_PATTERN);
const codec = values.codec.toUpperCase();
if (codec !== 'H264' && codec !== 'VP8') {
  console.error(`camera-to-browser: --codec must be h264 or vp8, not ${values.codec}`);
  process.exit(2);
}

let fanOut;
try {
  fanOut = new MediaFanOut({
    video: { source, codec, bitrate: Number(values.bitrate) },
    audio: values.audio !== undefined ? { source: values.audio } : undefined,
  });
  await fanOut.start();
} catch (error) {
  console.error(`camera-to-browser: ${error.message}`);
  process.exit(1);
}
fanOut.on('error', (error) => log(`error: ${error.message}${error.source ? ` (${error.source})` : ''}`));
log(`sending ${values.source !== undefined ? values.source : camera !== undefined ? `camera ${camera}` : 'a test pattern (no camera found)'} as ${codec}, encoded once for every viewer`);

// The page (the demo's viewer page) and the signalling server on one port.
let sessions;
const server = http.createServer(createPageHandler({ iceServers: [], status: () => ({ viewers: sessions?.status() ?? [], frames: fanOut.framesProduced.video }) }));
const signalling = new SignallingServer({ server, host: values.host, port: Number(values.port), path: SIGNALLING_PATH });
const address = await signalling.listen();
const local = ['0.0.0.0', '::'].includes(address.address) ? '127.0.0.1' : address.address;
const hostPart = local.includes(':') ? `[${local}]` : local;
const client = new SignallingClient();
await client.connect(`ws://${hostPart}:${address.port}${SIGNALLING_PATH}`, { role: 'gstreamer', name: 'camera' });
sessions = new ViewerSessions(fanOut, client);
sessions.on('viewerjoined', (peer) => log(`[${peer.peerId.slice(0, 6)}] ${peer.name ?? 'browser'} joined (${fanOut.viewers.length} watching)`));
sessions.on('viewerleft', (peerId, reason) => log(`[${peerId.slice(0, 6)}] left (${reason}; ${fanOut.viewers.length} watching)`));
sessions.on('error', (error, peerId) => log(`[${peerId.slice(0, 6)}] ${error.message}`));
await sessions.start();
console.log(`camera-to-browser: open http://${hostPart}:${address.port}/ in one or more browsers`);

const stop = async (signal) => {
  log(`${signal}: shutting down`);
  process.once(signal, () => process.exit(130));
  await sessions.close();
  await client.close();
  await signalling.close();
  server.closeAllConnections();
  server.close();
  fanOut.close();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
