#!/usr/bin/env node
'use strict';
// Command-line entry point: `gst-webrtc-node <command> [options]`.
// To add a command, add an entry to COMMANDS with a summary, usage text and run(argv).

const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const { TOKEN_ENV, ICE_OPTIONS, parseCommand, usageError, parsePort, parseIceServers, loadLibrary, untilStopped } = require('./cli-support.js');

const COMMANDS = {
  signalling: {
    summary: 'run the WebSocket signalling server',
    usage: `gst-webrtc-node signalling [options]

  --port <n>      port to listen on (default 8443; 0 picks a free port)
  --host <addr>   address to bind (default 127.0.0.1)
  --path <path>   only accept WebSocket upgrades on this path (default: any)
  --token <t>     require this token (?token=<t> or "Authorization: Bearer <t>");
                  defaults to $${TOKEN_ENV}, which keeps it out of the process list
  --cert <file>   PEM certificate: serve wss:// (needs --key)
  --key <file>    PEM private key for --cert
  --quiet         do not log peers and sessions
  -h, --help      show this help`,
    run: runSignalling,
  },
  demo: {
    summary: 'stream a test pattern (or a camera) to browsers and receive theirs back (npm start)',
    usage: `gst-webrtc-node demo [options]

Serves a page and a signalling server, and streams to every browser that opens
the page; each browser can send its camera and microphone back.

  --port <n>             port to listen on (default 8080; 0 picks a free port)
  --host <addr>          address to bind (default 127.0.0.1; 0.0.0.0 for the LAN)
  --source <src>         video to send: "test" (default, a moving test pattern),
                         "v4l2" (the first camera), "/dev/videoN", or any
                         gst-launch fragment that outputs raw video
  --audio-source <src>   audio to send: "test" (default, a tick every second),
                         "none", or any fragment that outputs raw audio
  --video-sink <sink>    also show the browser's camera here (e.g. autovideosink);
                         by default it is decoded and counted, not shown
  --audio-sink <sink>    also play the browser's microphone here (e.g. autoaudiosink)
  --stun <url>           STUN server for both sides: stun:host[:port]
  --turn <url>           TURN server, repeatable: turn:user:password@host[:port][?transport=udp|tcp]
                         (or turns:); by default no STUN/TURN: host candidates
                         suffice on localhost and a LAN
  --cert <file>          PEM certificate: serve https:// (needs --key); browsers
                         on other machines need https for the camera
  --key <file>           PEM private key for --cert
  -h, --help             show this help`,
    run: runDemo,
  },
  // WHIP/WHEP commands live in their own modules.
  'whip-server': require('./whip-server.js'),
  'whep-server': require('./whep-server.js'),
};

async function runSignalling(argv) {
  const values = parseCommand(
    argv,
    {
      port: { type: 'string', default: '8443' },
      path: { type: 'string' },
      token: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
    COMMANDS.signalling.usage,
  );
  if (values === null) return;
  if (Boolean(values.cert) !== Boolean(values.key)) throw usageError('--cert and --key go together');
  const token = values.token ?? process.env[TOKEN_ENV];

  const { SignallingServer } = loadLibrary('../dist/cjs/signalling/index.js');
  const server = new SignallingServer({
    port: parsePort(values.port),
    host: values.host,
    path: values.path,
    token: token || undefined,
    tls: values.cert ? { cert: readFileSync(values.cert), key: readFileSync(values.key) } : undefined,
  });
  server.on('error', (err) => console.error(`signalling server error: ${err.message}`));
  if (!values.quiet) {
    server.on('peerjoined', (e) => console.log(`peer joined: ${e.peerId} (${e.protocol}${e.role ? `, ${e.role}` : ''})`));
    server.on('peerleft', (e) => console.log(`peer left: ${e.peerId} (${e.reason})`));
    server.on('sessionstarted', (e) => console.log(`session ${e.sessionId}: ${e.initiator} -> ${e.responder}`));
    server.on('sessionended', (e) => console.log(`session ${e.sessionId} ended (${e.reason})`));
  }

  const { url } = await server.listen();
  console.log(`signalling server listening on ${url}${token ? ' (token required)' : ''}`);

  await untilStopped(() => server.close());
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

async function runDemo(argv) {
  const values = parseCommand(
    argv,
    {
      source: { type: 'string', default: 'test' },
      'audio-source': { type: 'string', default: 'test' },
      'video-sink': { type: 'string' },
      'audio-sink': { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      ...ICE_OPTIONS,
    },
    COMMANDS.demo.usage,
  );
  if (values === null) return;
  if (Boolean(values.cert) !== Boolean(values.key)) throw usageError('--cert and --key go together');
  const iceServers = parseIceServers(values.stun, values.turn);
  const port = parsePort(values.port);

  // The demo imports the compiled library as 'gst-webrtc-node' (dist/esm, over dist/cjs).
  loadLibrary('../dist/cjs/index.js');
  if (!existsSync(join(__dirname, '../dist/esm/index.mjs'))) {
    throw new Error('dist/esm/index.mjs is missing; build the TypeScript first with "npm run build:ts"');
  }
  const { startDemo } = await import('../examples/demo/demo.mjs');
  const time = () => new Date().toTimeString().slice(0, 8);
  const demo = await startDemo({
    host: values.host,
    port,
    tls: values.cert ? { cert: readFileSync(values.cert), key: readFileSync(values.key) } : undefined,
    iceServers,
    source: values.source,
    audioSource: values['audio-source'],
    videoSink: values['video-sink'],
    audioSink: values['audio-sink'],
    log: (line) => console.log(`${time()} ${line}`),
  });

  const ice = iceServers.length === 0 ? 'no STUN/TURN (host candidates)' : iceServers.map((server) => server.urls).join(', ');
  console.log(`gst-webrtc-node demo: open ${demo.url} in a browser`);
  console.log(`  sending ${values.source === 'test' ? 'a test pattern' : values.source} (VP8) and ${values['audio-source'] === 'test' ? 'a test tone' : values['audio-source']} (Opus); ${ice}`);
  for (const url of demo.lanUrls) console.log(`  from other machines: ${url}`);
  if (!values.cert && !LOOPBACK_HOSTS.has(values.host)) {
    console.log('  note: browsers only allow the camera in a secure context (https, or http://localhost on the same machine);');
    console.log('        browsers on other machines can watch, but need --cert/--key to send their camera');
  }
  console.log('  press Ctrl+C to stop');

  await untilStopped(() => demo.close());
}

function printHelp() {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  console.log(`usage: gst-webrtc-node <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n` +
    'Run "gst-webrtc-node <command> --help" for the options of a command.');
}

async function main(argv) {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    printHelp();
    return;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw usageError(`unknown command "${name}"`);
  await command.run(rest);
}

main(process.argv.slice(2)).catch((err) => {
  const usage = err && String(err.code).startsWith('ERR_PARSE_ARGS');
  console.error(`gst-webrtc-node: ${err && err.message ? err.message : err}`);
  if (usage) console.error('Run "gst-webrtc-node --help" for usage.');
  process.exitCode = usage ? 2 : 1;
});
