#!/usr/bin/env node
'use strict';
// Command-line entry point: `gst-webrtc-node <command> [options]`.
// To add a command, add an entry to COMMANDS with a summary, usage text and run(argv).

const { readFileSync } = require('node:fs');
const { parseArgs } = require('node:util');

const TOKEN_ENV = 'GST_WEBRTC_NODE_TOKEN';

class UsageError extends Error {}

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
  // demo: { summary: '...', usage: '...', run: runDemo },
};

function loadLibrary(modulePath) {
  try {
    return require(modulePath);
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist')) {
      throw new Error(`${modulePath} is missing; build the TypeScript first with "npm run build:ts"`);
    }
    throw err;
  }
}

function parsePort(text) {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid --port "${text}"`);
  return port;
}

async function runSignalling(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string', default: '8443' },
      host: { type: 'string', default: '127.0.0.1' },
      path: { type: 'string' },
      token: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(COMMANDS.signalling.usage);
    return;
  }
  if (Boolean(values.cert) !== Boolean(values.key)) throw new UsageError('--cert and --key go together');
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

  await new Promise((resolve) => {
    const stop = (signal) => {
      console.log(`${signal}: shutting down`);
      // A second signal means "now".
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      server.close().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
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
  if (!command) throw new UsageError(`unknown command "${name}"`);
  await command.run(rest);
}

main(process.argv.slice(2)).catch((err) => {
  const usage = err instanceof UsageError || (err && String(err.code).startsWith('ERR_PARSE_ARGS'));
  console.error(`gst-webrtc-node: ${err && err.message ? err.message : err}`);
  if (usage) console.error('Run "gst-webrtc-node --help" for usage.');
  process.exitCode = usage ? 2 : 1;
});
