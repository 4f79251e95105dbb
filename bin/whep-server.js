'use strict';
// `gst-webrtc-node whep-server`: a test pattern (or a camera) to every WHEP
// player, encoded once; prints the player URL.

const { createServer } = require('node:http');
const { TOKEN_ENV, ICE_OPTIONS, parseCommand, parsePort, parsePath, parseIceServers, loadLibrary, playerHandler, displayHost, untilStopped, time } = require('./cli-support.js');

const summary = 'serve a test pattern or a camera over WHEP (one encode for every player)';

const usage = `gst-webrtc-node whep-server [options]

Encodes a source once as H.264 (and Opus) and serves it to every WHEP player:
browsers (the printed player page), media servers, gst-webrtc-node's WhepClient.

  --port <n>             port to listen on (default 8080; 0 picks a free port)
  --host <addr>          address to bind (default 127.0.0.1; 0.0.0.0 for the LAN)
  --path <path>          the WHEP endpoint's path (default /whep)
  --source <src>         video: "test" (default, a test pattern), "v4l2" (the first
                         camera), "/dev/videoN", or a gst-launch fragment of raw video
  --audio-source <src>   audio: "test" (default, a tick every second), "none",
                         or a fragment of raw audio
  --bitrate <kbit/s>     H.264 bitrate (default 1500)
  --token <t>            require "Authorization: Bearer <t>"; defaults to $${TOKEN_ENV}
  --max-sessions <n>     players at once (default 100)
  --stun <url>           STUN server: stun:host[:port] (announced in Link headers too)
  --turn <url>           TURN server, repeatable: turn:user:password@host[:port]
  -h, --help             show this help`;

async function run(argv) {
  const values = parseCommand(
    argv,
    {
      path: { type: 'string', default: '/whep' },
      source: { type: 'string', default: 'test' },
      'audio-source': { type: 'string', default: 'test' },
      bitrate: { type: 'string', default: '1500' },
      token: { type: 'string' },
      'max-sessions': { type: 'string', default: '100' },
      ...ICE_OPTIONS,
    },
    usage,
  );
  if (values === null) return;
  const port = parsePort(values.port);
  const path = parsePath(values.path, '--path');
  const iceServers = parseIceServers(values.stun, values.turn);
  const bitrate = Number(values.bitrate);
  const maxSessions = Number(values['max-sessions']);
  const token = values.token ?? process.env[TOKEN_ENV];
  const { MediaFanOut, WhepServer } = loadLibrary();
  const { rawVideoSource, rawAudioSource } = await import('../examples/demo/media.mjs');
  const audio = rawAudioSource(values['audio-source']);
  const fanOut = new MediaFanOut({
    video: { source: `${rawVideoSource(values.source)} ! videoconvert`, bitrate },
    ...(audio === null ? {} : { audio: { source: audio } }),
    iceServers,
  });
  fanOut.on('error', (error) => console.error(`${time()} source error: ${error.message}`));
  await fanOut.start();
  const whep = new WhepServer({ source: fanOut, path, token, iceServers, maxSessions });
  whep.on('session', (session) => console.log(`${time()} player ${session.remoteAddress} joined (${whep.sessions.length} watching)`));
  whep.on('sessionclose', (session, reason) => console.log(`${time()} player ${session.remoteAddress} left: ${reason} (${whep.sessions.length} watching)`));
  whep.on('error', (error) => console.error(`${time()} error: ${error.message}`));

  const http = createServer(playerHandler(path));
  whep.attach(http);
  await new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, values.host, resolve);
  });
  const base = `http://${displayHost(values.host)}:${http.address().port}`;
  console.log(`gst-webrtc-node whep-server: WHEP endpoint ${base}${path}`);
  console.log(`  player: ${base}/whep.html?endpoint=${encodeURIComponent(base + path)}`);
  console.log(`  sending ${values.source === 'test' ? 'a test pattern' : values.source} as H.264${audio === null ? '' : ' and Opus'}${token ? '; Bearer token required' : ''}`);
  console.log('  press Ctrl+C to stop');
  await untilStopped(async () => {
    await whep.close();
    fanOut.close();
    await new Promise((resolve) => {
      http.close(resolve);
      http.closeAllConnections();
    });
  });
}

module.exports = { summary, usage, run };
