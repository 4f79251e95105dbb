// The demo behind `npm start`: one HTTP(S) server for the page and the signalling
// WebSocket (/signalling), and the GStreamer sender, which joins the signalling
// server as a peer like any browser.
import http from 'node:http';
import https from 'node:https';
import { networkInterfaces } from 'node:os';
import { SignallingServer } from 'gst-webrtc-node';

import { createPageHandler, SIGNALLING_PATH } from './page.mjs';
import { Sender } from './sender.mjs';

/**
 * @typedef {object} DemoOptions
 * @property {string} [host] Address to bind. Default 127.0.0.1; 0.0.0.0 for the LAN.
 * @property {number} [port] Default 8080; 0 picks a free port.
 * @property {{ cert: string | Buffer, key: string | Buffer }} [tls] Serve https:// and wss://.
 * @property {import('gst-webrtc-node').IceServer[]} [iceServers] STUN/TURN for both sides. Default none.
 * @property {string} [source] See media.mjs rawVideoSource().
 * @property {string} [audioSource] See media.mjs rawAudioSource().
 * @property {string} [videoSink] Extra sink fragment for the browser's camera.
 * @property {string} [audioSink] Extra sink fragment for the browser's microphone.
 * @property {(line: string) => void} [log]
 */

/**
 * @typedef {object} Demo
 * @property {string} url The page's URL for this machine.
 * @property {string[]} lanUrls URLs for other machines (when bound to all interfaces).
 * @property {Sender} sender
 * @property {() => Promise<void>} close
 */

/**
 * Starts the server, the page and the sender; resolves once the page can be opened.
 * @param {DemoOptions} options
 * @returns {Promise<Demo>}
 */
export async function startDemo(options = {}) {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  const iceServers = options.iceServers ?? [];
  const log = options.log ?? ((line) => console.log(line));

  const sender = new Sender({ ...options, iceServers, log });
  const handlePage = createPageHandler({ iceServers, status: () => ({ viewers: sender.status() }) });
  const server = options.tls ? https.createServer(options.tls, handlePage) : http.createServer(handlePage);
  server.on('upgrade', (req, socket) => {
    // The signalling server takes upgrades on its path; nobody else wants any.
    if (new URL(req.url ?? '/', 'http://x').pathname !== SIGNALLING_PATH) socket.destroy();
  });
  const signalling = new SignallingServer({ server, host, port, path: SIGNALLING_PATH });
  signalling.on('error', (error) => log(`server error: ${error.message}`));

  // The sender reaches the signalling server through a private loopback listener,
  // so it needs neither the public address nor a certificate valid for it.
  const internal = http.createServer((_req, res) => res.writeHead(404).end());
  internal.on('upgrade', (req, socket, head) => server.emit('upgrade', req, socket, head));

  const close = async () => {
    await sender.close();
    await signalling.close();
    for (const listener of [server, internal]) {
      listener.closeAllConnections();
      await new Promise((resolve) => listener.close(() => resolve(undefined)));
    }
  };
  try {
    const address = await signalling.listen();
    await new Promise((resolve, reject) => {
      internal.once('error', reject);
      internal.listen(0, '127.0.0.1', () => resolve(undefined));
    });
    const internalPort = /** @type {import('node:net').AddressInfo} */ (internal.address()).port;
    await sender.start(`ws://127.0.0.1:${internalPort}${SIGNALLING_PATH}`);
    const scheme = options.tls ? 'https' : 'http';
    return {
      url: `${scheme}://${urlHost(localAddress(address.address))}:${address.port}/`,
      lanUrls: lanAddresses(address.address).map((lan) => `${scheme}://${urlHost(lan)}:${address.port}/`),
      sender,
      close,
    };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

const ANY_ADDRESS = new Set(['0.0.0.0', '::']);

/** The address this machine's own browser should use. @param {string} bound */
function localAddress(bound) {
  if (bound === '::') return '::1';
  return bound === '0.0.0.0' ? '127.0.0.1' : bound;
}

/** Addresses other machines can use, when bound to all interfaces. @param {string} bound */
function lanAddresses(bound) {
  if (!ANY_ADDRESS.has(bound)) return [];
  return Object.values(networkInterfaces())
    .flat()
    .filter((entry) => entry !== undefined && !entry.internal && (bound === '::' || entry.family === 'IPv4'))
    .filter((entry) => !(entry?.family === 'IPv6' && entry.address.startsWith('fe80:')))
    .map((entry) => /** @type {import('node:os').NetworkInterfaceInfo} */ (entry).address);
}

/** @param {string} address */
function urlHost(address) {
  return address.includes(':') ? `[${address}]` : address;
}
