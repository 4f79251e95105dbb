'use strict';
// `gst-webrtc-node whip-server`: a WHIP ingest for OBS, browsers or any WHIP
// client; what is published is restreamed over WHEP (decoded once, encoded once
// as H.264 for every player) or recorded to files.

const { mkdirSync } = require('node:fs');
const { createServer } = require('node:http');
const { join, resolve } = require('node:path');
const { TOKEN_ENV, ICE_OPTIONS, parseCommand, usageError, parsePort, parsePath, parseIceServers, loadLibrary, playerHandler, displayHost, untilStopped, time } = require('./cli-support.js');

const summary = 'take WHIP publishers (OBS, browsers) and restream over WHEP or record';

const usage = `gst-webrtc-node whip-server [options]

A WHIP endpoint. By default the publisher's stream is restreamed over WHEP on the
same port (decoded once and encoded once as H.264 for every player; one publisher
at a time); with --record each published session is written to a file instead.

  --port <n>             port to listen on (default 8080; 0 picks a free port)
  --host <addr>          address to bind (default 127.0.0.1; 0.0.0.0 for OBS on another machine)
  --path <path>          the WHIP endpoint's path (default /whip)
  --whep-path <path>     the WHEP endpoint's path for the restream (default /whep)
  --record <dir>         record every session to <dir>/<time>-<id>.mkv instead of restreaming
  --token <t>            require "Authorization: Bearer <t>" (OBS: "Bearer Token");
                         defaults to $${TOKEN_ENV}
  --max-sessions <n>     publishers at once when recording (default 10)
  --stun <url>           STUN server: stun:host[:port] (announced in Link headers too)
  --turn <url>           TURN server, repeatable: turn:user:password@host[:port]
  -h, --help             show this help`;

/** Depayloader and decoder of each codec a publisher may send. */
const DECODERS = {
  H264: 'rtph264depay ! avdec_h264',
  VP8: 'rtpvp8depay ! vp8dec',
  VP9: 'rtpvp9depay ! vp9dec',
  OPUS: 'rtpopusdepay ! opusdec',
};

// The restream's fixed raw formats: whatever the publisher sends is converted to them.
const VIDEO_CAPS = 'video/x-raw,format=I420,width=1280,height=720,framerate=30/1';
const AUDIO_CAPS = 'audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=2';

async function run(argv) {
  const values = parseCommand(
    argv,
    {
      path: { type: 'string', default: '/whip' },
      'whep-path': { type: 'string', default: '/whep' },
      record: { type: 'string' },
      token: { type: 'string' },
      'max-sessions': { type: 'string', default: '10' },
      ...ICE_OPTIONS,
    },
    usage,
  );
  if (values === null) return;
  const port = parsePort(values.port);
  const path = parsePath(values.path, '--path');
  const whepPath = parsePath(values['whep-path'], '--whep-path');
  if (whepPath === path) throw usageError('--path and --whep-path must differ');
  const iceServers = parseIceServers(values.stun, values.turn);
  const token = values.token ?? process.env[TOKEN_ENV];
  const record = values.record === undefined ? undefined : resolve(values.record);
  const maxSessions = record === undefined ? 1 : Number(values['max-sessions']);
  const { MediaFanOut, WhepServer, WhipServer, WebRtcRecorder } = loadLibrary();

  const whip = new WhipServer({ path, token, iceServers, maxSessions, latency: 100 });
  whip.on('error', (error) => console.error(`${time()} error: ${error.message}`));
  whip.on('sessionclose', (session, reason) => console.log(`${time()} publisher ${session.remoteAddress} left: ${reason}`));
  const http = createServer(playerHandler(whepPath));
  const closers = [];

  if (record !== undefined) {
    mkdirSync(record, { recursive: true });
    whip.on('session', (session) => {
      const file = join(record, `${new Date().toISOString().replace(/[:.]/g, '-')}-${session.id.slice(0, 8)}.mkv`);
      const recorder = new WebRtcRecorder(session.webrtcbin, { path: file });
      recorder.on('stop', (result) => console.log(`${time()} saved ${result.path}${result.finalized ? '' : ' (not finalized: ' + result.reason + ')'}`));
      recorder.on('error', (error) => console.error(`${time()} recording error: ${error.message}`));
      // Finish the file while the session's media is still there.
      session.beforeRelease(() => recorder.stop().catch(() => undefined));
      console.log(`${time()} publisher ${session.remoteAddress} joined; recording to ${file}`);
    });
  } else {
    // One fan-out for all players, fed by the publisher through GStreamer's inter elements.
    const channel = `whip-${process.pid}`;
    const fanOut = new MediaFanOut({
      video: { source: `intervideosrc channel=${channel}-video ! ${VIDEO_CAPS}` },
      audio: { source: `interaudiosrc channel=${channel}-audio ! ${AUDIO_CAPS}` },
      iceServers,
    });
    fanOut.on('error', (error) => console.error(`${time()} restream error: ${error.message}`));
    await fanOut.start();
    const whep = new WhepServer({ source: fanOut, path: whepPath, token, iceServers });
    whep.on('session', (session) => console.log(`${time()} player ${session.remoteAddress} joined (${whep.sessions.length} watching)`));
    whep.on('sessionclose', (session, reason) => console.log(`${time()} player ${session.remoteAddress} left: ${reason}`));
    whep.attach(http);
    closers.push(() => whep.close(), () => fanOut.close());
    whip.on('session', (session) => console.log(`${time()} publisher ${session.remoteAddress} joined; restreaming at ${whepPath}`));
    whip.on('track', (track) => {
      const decoder = DECODERS[track.encodingName];
      if (decoder === undefined) {
        console.log(`${time()} ${track.kind} in ${track.encodingName}: not restreamed`);
        return;
      }
      const output =
        track.kind === 'video'
          ? `videoconvert ! videoscale ! videorate ! ${VIDEO_CAPS} ! intervideosink channel=${channel}-video`
          : `audioconvert ! audioresample ! ${AUDIO_CAPS} ! interaudiosink channel=${channel}-audio`;
      track.link(`${decoder} ! queue ! ${output}`);
    });
  }
  whip.attach(http);
  await new Promise((resolvePromise, reject) => {
    http.once('error', reject);
    http.listen(port, values.host, resolvePromise);
  });
  const base = `http://${displayHost(values.host)}:${http.address().port}`;
  console.log(`gst-webrtc-node whip-server: WHIP endpoint ${base}${path}${token ? ' (Bearer token required)' : ''}`);
  if (record !== undefined) console.log(`  recording every session to ${record}`);
  else {
    console.log(`  restream: WHEP endpoint ${base}${whepPath}`);
    console.log(`  player: ${base}/whep.html?endpoint=${encodeURIComponent(base + whepPath)}`);
  }
  console.log('  press Ctrl+C to stop');
  await untilStopped(async () => {
    await whip.close();
    for (const close of closers) await close();
    await new Promise((resolvePromise) => {
      http.close(resolvePromise);
      http.closeAllConnections();
    });
  });
}

module.exports = { summary, usage, run };
