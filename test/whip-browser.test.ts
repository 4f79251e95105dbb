// Headless Chromium speaking WHIP and WHEP with nothing but fetch in the page,
// as browser players and publishers do: publishers to our WhipServer (the fake
// camera, which Chromium then shows its host addresses to, and a canvas with only
// mDNS host candidates), and a trickling player of our WhepServer with Chromium's
// default mDNS candidates. The page comes from another origin, so CORS is exercised too.
import { createServer } from 'node:http';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MediaFanOut, WhepServer, WhipServer, type HttpSession } from '../lib/index.js';
import { allowCamera, type Chromium, launchChromium } from './support/chromium.js';
import { rendered } from './support/media.js';
import { until } from './support/wait.js';

// The page's whole WHIP/WHEP client: fetch and RTCPeerConnection.
const PAGE = `<!doctype html><meta charset="utf-8"><title>whip/whep</title><script>
const waitForGathering = (pc) => new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve();
  pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
});
window.candidates = [];
window.publish = async (url) => {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true });
  const pc = new RTCPeerConnection();
  window.pc = pc;
  for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  await waitForGathering(pc); // no trickle: every candidate in the offer
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
  if (response.status !== 201) throw new Error('POST answered ' + response.status + ': ' + await response.text());
  const location = new URL(response.headers.get('Location'), url).href;
  await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  return location;
};
// A publisher without camera permission: a canvas animation and a WebAudio tone, so
// Chromium keeps its host addresses behind mDNS names, as for any page.
window.publishCanvas = async (url) => {
  const canvas = document.createElement('canvas');
  canvas.width = 320; canvas.height = 240;
  const context2d = canvas.getContext('2d');
  let frame = 0;
  setInterval(() => { context2d.fillStyle = 'hsl(' + (frame++ * 7 % 360) + ',80%,50%)'; context2d.fillRect(0, 0, 320, 240); }, 33);
  const audio = new AudioContext();
  const oscillator = audio.createOscillator();
  const destination = audio.createMediaStreamDestination();
  oscillator.connect(destination); oscillator.start();
  const pc = new RTCPeerConnection();
  window.pc = pc;
  pc.onicecandidate = ({ candidate }) => candidate && candidate.candidate && window.candidates.push(candidate.candidate);
  for (const track of [...canvas.captureStream(30).getVideoTracks(), ...destination.stream.getAudioTracks()]) pc.addTransceiver(track, { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  await waitForGathering(pc);
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
  if (response.status !== 201) throw new Error('POST answered ' + response.status + ': ' + await response.text());
  await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  return new URL(response.headers.get('Location'), url).href;
};
window.play = async (url) => {
  const pc = new RTCPeerConnection();
  window.pc = pc;
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const early = [];
  let resource = null;
  window.patches = [];
  const patch = async (lines) => {
    const sdp = pc.localDescription.sdp;
    const ufrag = /a=ice-ufrag:(\\S+)/.exec(sdp)[1], pwd = /a=ice-pwd:(\\S+)/.exec(sdp)[1], mid = /a=mid:(\\S+)/.exec(sdp)[1];
    const body = 'a=ice-ufrag:' + ufrag + '\\r\\na=ice-pwd:' + pwd + '\\r\\nm=video 9 UDP/TLS/RTP/SAVPF 0\\r\\na=mid:' + mid + '\\r\\n' + lines.map((l) => l + '\\r\\n').join('');
    const response = await fetch(resource.url, { method: 'PATCH', headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': resource.etag }, body });
    window.patches.push(response.status);
  };
  pc.onicecandidate = ({ candidate }) => {
    const line = candidate && candidate.candidate ? 'a=' + candidate.candidate : candidate ? null : 'a=end-of-candidates';
    if (line === null) return;
    if (line !== 'a=end-of-candidates') window.candidates.push(candidate.candidate);
    if (resource === null) early.push(line); else patch([line]);
  };
  await pc.setLocalDescription(await pc.createOffer());
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
  if (response.status !== 201) throw new Error('POST answered ' + response.status + ': ' + await response.text());
  resource = { url: new URL(response.headers.get('Location'), url).href, etag: response.headers.get('ETag') };
  await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  if (early.length > 0) await patch(early);
  return resource.url;
};
window.stop = async (location) => {
  window.pc.close();
  return (await fetch(location, { method: 'DELETE' })).status;
};
window.videoStats = async () => {
  const result = { framesDecoded: 0, codec: '', connection: window.pc ? window.pc.connectionState : 'none' };
  const report = await window.pc.getStats();
  report.forEach((stats) => {
    if (stats.type !== 'inbound-rtp' || stats.kind !== 'video') return;
    result.framesDecoded = stats.framesDecoded || 0;
    result.codec = (report.get(stats.codecId) || {}).mimeType || '';
  });
  return result;
};
</script>`;

const DECODERS: Record<string, string> = {
  H264: 'rtph264depay ! avdec_h264 output-corrupt=false',
  VP8: 'rtpvp8depay ! vp8dec',
  OPUS: 'rtpopusdepay ! opusdec',
};

describe('WHIP and WHEP with Chromium', () => {
  let chromium: Chromium;
  let pageOrigin: string;
  const closers: (() => unknown)[] = [];

  beforeAll(async () => {
    const pages = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => (pages.closeAllConnections(), pages.close(resolve))));
    pageOrigin = `http://127.0.0.1:${(pages.address() as { port: number }).port}`;
    chromium = await launchChromium();
  }, 40_000);

  afterAll(async () => {
    await chromium?.close();
    for (const close of closers.reverse()) await close();
  }, 30_000);

  async function page(): Promise<Page> {
    const tab = await chromium.context.newPage();
    await tab.goto(`${pageOrigin}/`);
    return tab;
  }

  it('Chromium publishes its fake camera over WHIP; the server decodes video and audio', async () => {
    const server = new WhipServer();
    closers.push(() => server.close());
    const sessions: HttpSession[] = [];
    const codecs: string[] = [];
    server.on('track', (track, session) => {
      sessions.push(session);
      codecs.push(track.encodingName);
      track.link(`${DECODERS[track.encodingName]} ! fakesink name=${track.kind}-out sync=false async=false`);
    });
    const url = await server.listen();
    // As a user clicking "Allow" for the camera.
    await allowCamera(chromium.context, pageOrigin);
    const tab = await page();
    const location = await tab.evaluate((endpoint) => (window as any).publish(endpoint), url);
    expect(location).toMatch(new RegExp(`^${url}/`));
    await until(() => sessions.length === 2, 'both tracks arrive');
    const pipeline = sessions[0].webrtcbin.pipeline;
    await until(() => rendered(pipeline, 'video-out') >= 30 && rendered(pipeline, 'audio-out') >= 30, 'the server decodes the browser video and audio', 20_000);
    expect(codecs.sort()).toEqual(['OPUS', 'VP8']);
    expect(await tab.evaluate((resource) => (window as any).stop(resource), location)).toBe(200);
    expect(server.sessions).toEqual([]);
    await tab.close();
  }, 60_000);

  it('Chromium publishes over WHIP with only mDNS host candidates (no camera permission); the server decodes', async () => {
    const server = new WhipServer();
    closers.push(() => server.close());
    const sessions: HttpSession[] = [];
    server.on('track', (track, session) => {
      sessions.push(session);
      track.link(`${DECODERS[track.encodingName]} ! fakesink name=${track.kind}-out sync=false async=false`);
    });
    const url = await server.listen();
    await chromium.context.clearPermissions();
    const tab = await page();
    const location = await tab.evaluate((endpoint) => (window as any).publishCanvas(endpoint), url);
    const candidates: string[] = await tab.evaluate(() => (window as any).candidates);
    const hosts = candidates.filter((c) => / typ host/.test(c));
    expect(hosts.length).toBeGreaterThan(0);
    expect(hosts.every((c) => /\.local /.test(c))).toBe(true);
    await until(() => sessions.length === 2, 'both tracks arrive');
    const pipeline = sessions[0].webrtcbin.pipeline;
    await until(() => rendered(pipeline, 'video-out') >= 30 && rendered(pipeline, 'audio-out') >= 30, 'the server decodes the canvas and the tone', 20_000);
    expect(await tab.evaluate((resource) => (window as any).stop(resource), location)).toBe(200);
    expect(server.sessions).toEqual([]);
    await tab.close();
  }, 60_000);

  it('Chromium plays a MediaFanOut over WHEP, trickling its mDNS candidates; H.264 frames decoded', async () => {
    const fan = new MediaFanOut({ video: { source: 'videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=30/1' }, audio: { source: 'audiotestsrc is-live=true' } });
    closers.push(() => fan.close());
    await fan.start();
    const server = new WhepServer({ source: fan });
    closers.push(() => server.close());
    const url = await server.listen();
    // A fresh context-less page: no camera permission here, so Chromium hides its addresses behind mDNS.
    await chromium.context.clearPermissions();
    const tab = await page();
    const location = await tab.evaluate((endpoint) => (window as any).play(endpoint), url);
    await until(async () => (await tab.evaluate(() => (window as any).videoStats())).framesDecoded >= 30, 'Chromium decodes the WHEP video', 20_000, 100);
    const stats = await tab.evaluate(() => (window as any).videoStats());
    expect(stats.codec).toBe('video/H264');
    const candidates: string[] = await tab.evaluate(() => (window as any).candidates);
    const hosts = candidates.filter((c) => / typ host/.test(c));
    expect(hosts.length).toBeGreaterThan(0);
    expect(hosts.every((c) => /\.local /.test(c))).toBe(true);
    const patches: number[] = await tab.evaluate(() => (window as any).patches);
    expect(patches.length).toBeGreaterThan(0);
    expect(new Set(patches)).toEqual(new Set([204]));
    expect(await tab.evaluate((resource) => (window as any).stop(resource), location)).toBe(200);
    await until(() => fan.viewers.length === 0, 'the viewer is removed');
    await tab.close();
  }, 60_000);
});
