// Makes the fuzzer's seed descriptions in test/fixtures/fuzz/seeds/: real
// offers and answers from this library, werift and headless Chromium (no
// network: nothing is connected, only descriptions are made).
//   node scripts/fuzz/make-seeds.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const seeds = join(root, 'test', 'fixtures', 'fuzz', 'seeds');
mkdirSync(seeds, { recursive: true });
const save = (name, description) => writeFileSync(join(seeds, `${name}.sdp`), description.sdp);

// This library: offers with media and a data channel, and answers to them.
const { WebRtcBin } = require(join(root, 'dist', 'cjs', 'index.js'));
{
  const a = new WebRtcBin();
  const b = new WebRtcBin();
  a.addTransceiver('video');
  a.addTransceiver('audio', { direction: 'sendonly' });
  a.createDataChannel('seed');
  const offer = await a.createOffer();
  save('gst-offer-av-data', offer);
  await b.setRemoteDescription(offer);
  save('gst-answer-av-data', await b.createAnswer());
  a.close();
  b.close();
}

// werift.
const { RTCPeerConnection } = require('werift');
{
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.addTransceiver('video', { direction: 'sendrecv' });
  a.addTransceiver('audio', { direction: 'sendrecv' });
  a.createDataChannel('seed');
  const offer = await a.createOffer();
  await a.setLocalDescription(offer);
  save('werift-offer-av-data', a.localDescription);
  await b.setRemoteDescription(a.localDescription);
  const answer = await b.createAnswer();
  await b.setLocalDescription(answer);
  save('werift-answer-av-data', b.localDescription);
  await a.close();
  await b.close();
}

// Chromium (Debian's package, through playwright-core).
const { chromium } = require('playwright-core');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--disable-gpu', '--no-sandbox', '--disable-background-networking'] });
const page = await browser.newPage();
const made = await page.evaluate(async () => {
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.addTransceiver('video');
  a.addTransceiver('audio');
  a.createDataChannel('seed');
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  const result = { offer: a.localDescription.toJSON(), answer: b.localDescription.toJSON() };
  a.close();
  b.close();
  return result;
});
save('chromium-offer-av-data', made.offer);
save('chromium-answer-av-data', made.answer);
await browser.close();
console.log(`seeds written to ${seeds}`);
process.exit(0);
