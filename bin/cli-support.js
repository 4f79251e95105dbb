'use strict';
// What the commands share: option checks, ICE server options, loading the
// built library, the WHEP player page, and a clean shutdown on Ctrl+C.

const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { parseArgs } = require('node:util');

const TOKEN_ENV = 'GST_WEBRTC_NODE_TOKEN';

/** A usage error, reported by the main entry point with exit code 2. */
function usageError(message) {
  const error = new Error(message);
  error.code = 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE';
  return error;
}

/** What every command takes: where to listen, and --help. */
const COMMON_OPTIONS = {
  port: { type: 'string', default: '8080' },
  host: { type: 'string', default: '127.0.0.1' },
  help: { type: 'boolean', short: 'h', default: false },
};

/** The ICE server options of the commands that make peer connections. */
const ICE_OPTIONS = {
  stun: { type: 'string' },
  turn: { type: 'string', multiple: true },
};

/** A command's option values (strict: unknown options are usage errors), or null once --help has printed `usage`. */
function parseCommand(argv, options, usage) {
  const { values } = parseArgs({ args: argv, strict: true, options: { ...COMMON_OPTIONS, ...options } });
  if (!values.help) return values;
  console.log(usage);
  return null;
}

function parsePort(text) {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError(`invalid --port "${text}"`);
  return port;
}

function parsePath(text, option) {
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(text)) throw usageError(`invalid ${option} "${text}" (a URL path such as /whip)`);
  return text;
}

/** --stun stun:host[:port] and --turn turn:user:password@host[:port][?transport=udp|tcp], as W3C ice servers. */
function parseIceServers(stun, turns = []) {
  const servers = [];
  if (stun !== undefined) {
    if (!/^stun:[^\s@/]+$/.test(stun)) throw usageError(`invalid --stun "${stun}" (expected stun:host[:port])`);
    servers.push({ urls: stun });
  }
  for (const turn of turns) {
    const match = /^(turns?):([^:@\s]+):([^@\s]*)@([^\s@]+)$/.exec(turn);
    if (!match) throw usageError(`invalid --turn (expected turn:user:password@host[:port]); got "${turn.replace(/:[^:@]*@/, ':***@')}"`);
    servers.push({ urls: `${match[1]}:${match[4]}`, username: decodeURIComponent(match[2]), credential: decodeURIComponent(match[3]) });
  }
  return servers;
}

/** The built library (or one of its entry points, such as '../dist/cjs/signalling/index.js'). */
function loadLibrary(modulePath = '../dist/cjs/index.js') {
  try {
    return require(modulePath);
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist')) {
      throw new Error(`${modulePath} is missing; build the TypeScript first with "npm run build:ts"`);
    }
    throw err;
  }
}

const PLAYER_FILES = {
  '/whep.html': 'text/html; charset=utf-8',
  '/whep.js': 'text/javascript; charset=utf-8',
  '/style.css': 'text/css; charset=utf-8',
};

/** Serves the demo's WHEP player page (examples/demo/public/whep.html); `/` redirects to it. */
function playerHandler(endpointPath) {
  const files = new Map(Object.entries(PLAYER_FILES).map(([path, type]) => [path, { type, body: readFileSync(join(__dirname, '../examples/demo/public', path.slice(1))) }]));
  return (request, response) => {
    const path = new URL(request.url || '/', 'http://x').pathname;
    if (path === '/') {
      response.writeHead(302, { location: `/whep.html?endpoint=${encodeURIComponent(endpointPath)}` }).end();
      return;
    }
    const file = files.get(path);
    if (request.method !== 'GET' || file === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }).end(file.body);
  };
}

/** A URL a person can open: 0.0.0.0 and :: become localhost. */
function displayHost(host) {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/** Resolves on SIGINT/SIGTERM after `close()`; a second signal exits at once. */
function untilStopped(close) {
  return new Promise((resolve) => {
    const stop = (signal) => {
      console.log(`${signal}: shutting down`);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      Promise.resolve(close()).then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

const time = () => new Date().toTimeString().slice(0, 8);

module.exports = { TOKEN_ENV, ICE_OPTIONS, parseCommand, usageError, parsePort, parsePath, parseIceServers, loadLibrary, playerHandler, displayHost, untilStopped, time };
