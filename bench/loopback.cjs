// The Node side of the binding-overhead benchmark (figure 1): the same
// in-process loopback as bench/reference/loopback.c, driven through this
// package's published build (dist/cjs) in a fresh, plain Node.js process.
//
//   node bench/loopback.cjs SECONDS
//
// Prints one JSON line with the same fields as the C program: firstFrameMs,
// connectedMs, videoFrames, audioBuffers, cpuSeconds, peakRssKiB. Times are from
// the moment the package is loaded (GStreamer initialised), as the C program's
// are from gst_init. Plain JavaScript so that no TypeScript loader runs in the
// measured process.
'use strict';

// The package's CommonJS build: dist/cjs, or the copy bench/binding-overhead.ts
// takes at the start of the figure so that every run uses the same build.
const dist = process.env.GST_WEBRTC_NODE_DIST ?? require('node:path').join(__dirname, '../dist/cjs');
const { PeerConnector, Pipeline, WebRtcBin } = require(`${dist}/index.js`);
const { native } = require(`${dist}/core/native.js`);

const start = process.hrtime.bigint();
const msSinceStart = (ns) => (ns === undefined ? -1 : Math.round(Number(ns - start) / 1e6));

// Word for word the C program's SENDER and decoding branches.
const SENDER =
  'videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=30/1 ' +
  '! vp8enc deadline=1 ! rtpvp8pay pt=96 ! webrtcbin name=tx bundle-policy=max-bundle ' +
  'audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! opusenc ! rtpopuspay pt=111 ! tx.';
const VIDEO_BRANCH = 'rtpvp8depay ! vp8dec name=dec ! fakesink name=video';
const AUDIO_BRANCH = 'rtpopusdepay ! opusdec ! fakesink name=audio';

const seconds = Number(process.argv[2] ?? 20);
if (!(seconds > 0)) throw new TypeError('usage: node bench/loopback.cjs SECONDS');

const tx = new Pipeline(SENDER);
const rx = new WebRtcBin({ latency: 50 });
const sender = tx.getWebRtcBin('tx');
let connectedAt;
let firstFrame;

rx.on('connectionstatechange', (state) => {
  if (state === 'connected' && connectedAt === undefined) connectedAt = process.hrtime.bigint();
});
rx.on('track', (track) => {
  if (track.kind !== 'video') {
    track.link(AUDIO_BRANCH);
    return;
  }
  track.link(VIDEO_BRANCH);
  // The probe records the decoder's first output on the streaming thread, as the
  // C program's pad probe does; it is in place well before the first frame is decoded.
  firstFrame = new native.LatencyProbe(rx.pipeline.getElement('dec').native, 'src', { limit: 1 });
});
for (const emitter of [tx, rx.pipeline]) emitter.on('error', fail);

PeerConnector.pair(sender, rx).catch(fail);
tx.play().catch(fail);
setTimeout(finish, seconds * 1000);

function rendered(pipeline, name) {
  const stats = pipeline.getElement(name)?.get('stats');
  return stats?.rendered ?? 0;
}

function finish() {
  const videoFrames = rendered(rx.pipeline, 'video');
  const audioBuffers = rendered(rx.pipeline, 'audio');
  const firstFrameClock = firstFrame?.take()[0];
  tx.close();
  rx.close();
  const usage = process.resourceUsage();
  const result = {
    firstFrameMs: msSinceStart(firstFrameClock === undefined ? undefined : BigInt(firstFrameClock)),
    connectedMs: msSinceStart(connectedAt),
    videoFrames,
    audioBuffers,
    cpuSeconds: Number(((usage.userCPUTime + usage.systemCPUTime) / 1e6).toFixed(3)),
    peakRssKiB: usage.maxRSS,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function fail(error) {
  process.stderr.write(`loopback: ${error?.stack ?? error}\n`);
  process.exit(1);
}
