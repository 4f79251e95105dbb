// HTTP side of the demo: the page's static files (and the WHEP player mode), its configuration
// (/config.json: ICE servers and the signalling path) and a status for scripts
// (/status.json: the browsers being streamed to and what they send back).
import { readFileSync } from 'node:fs';

/** Where the page connects its signalling WebSocket. */
export const SIGNALLING_PATH = '/signalling';

const FILES = {
  '/': { name: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { name: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { name: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { name: 'style.css', type: 'text/css; charset=utf-8' },
  // WHEP player mode: plays any WHEP endpoint (?endpoint=<url>).
  '/whep.html': { name: 'whep.html', type: 'text/html; charset=utf-8' },
  '/whep.js': { name: 'whep.js', type: 'text/javascript; charset=utf-8' },
};

const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; connect-src 'self' ws: wss: http: https:; img-src 'self' data:; object-src 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

/**
 * @param {{ iceServers: import('gst-webrtc-node').IceServer[], status: () => unknown }} options
 * @returns {import('node:http').RequestListener}
 */
export function createPageHandler(options) {
  /** @type {Map<string, { body: Buffer, type: string }>} */
  const files = new Map();
  for (const [path, file] of Object.entries(FILES)) {
    files.set(path, { body: readFileSync(new URL(`./public/${file.name}`, import.meta.url)), type: file.type });
  }
  const config = Buffer.from(JSON.stringify({ iceServers: options.iceServers, signallingPath: SIGNALLING_PATH }));

  return (req, res) => {
    const send = (/** @type {number} */ status, /** @type {string} */ type, /** @type {Buffer | string} */ body) => {
      res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(405, 'text/plain', 'method not allowed\n');
      return;
    }
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = files.get(path);
    if (file !== undefined) send(200, file.type, file.body);
    else if (path === '/config.json') send(200, 'application/json', config);
    else if (path === '/status.json') send(200, 'application/json', JSON.stringify(options.status()));
    else send(404, 'text/plain', 'not found\n');
  };
}
