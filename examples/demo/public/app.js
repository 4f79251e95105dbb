// The demo page: joins the signalling server as a "viewer", answers GStreamer's
// offer, plays what it receives and can send the camera and microphone back.
// Speaks the JSON signalling protocol (docs/signalling-protocol.md) directly.

const $ = (id) => document.getElementById(id);
const ui = {
  summary: $('summary'),
  remoteVideo: $('remote-video'),
  localVideo: $('local-video'),
  sound: $('sound'),
  camera: $('camera'),
  cameraNote: $('camera-note'),
  reconnect: $('reconnect'),
  signallingState: $('signalling-state'),
  signalingState: $('signaling-state'),
  iceState: $('ice-state'),
  connectionState: $('connection-state'),
  route: $('route'),
  stats: $('stats'),
};

const STATS_INTERVAL_MS = 1000;

/** @type {{ iceServers: RTCIceServer[], signallingPath: string }} */
let config;
/** @type {WebSocket | undefined} */
let socket;
/** @type {RTCPeerConnection | undefined} */
let pc;
/** @type {string | undefined} */
let sessionId;
/** @type {MediaStream | undefined} */
let localStream;
/** Candidates that arrived before the offer they belong to. */
let pendingCandidates = [];
/** Signalling messages are handled one at a time, in order. */
let work = Promise.resolve();
/** Byte counters of the previous stats poll, for bitrates. */
let previousBytes = new Map();

/** For the browser console (and the tests): the current connection and what this page sent. */
window.demo = {
  get pc() {
    return pc;
  },
  get sessionId() {
    return sessionId;
  },
  sentCandidates: [],
};

function summarize(text, tone = 'neutral') {
  ui.summary.textContent = text;
  ui.summary.dataset.tone = tone;
}

function showState(element, state) {
  element.textContent = state;
  element.className = { connected: 'good', completed: 'good', stable: 'good', failed: 'bad', closed: 'bad', disconnected: 'warn' }[state] ?? '';
}

function browserName() {
  const match = /(Edg|OPR|Firefox|Chrome|Version)\/(\d+)/.exec(navigator.userAgent);
  if (match === null) return 'browser';
  const name = { Edg: 'Edge', OPR: 'Opera', Version: 'Safari' }[match[1]] ?? match[1];
  return `${name} ${match[2]}`;
}

// ---- signalling ----

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  socket = new WebSocket(`${scheme}//${location.host}${config.signallingPath}`);
  const ws = socket;
  showState(ui.signallingState, 'connecting');
  ws.onopen = () => send({ type: 'hello', role: 'viewer', name: browserName() });
  ws.onmessage = (event) => {
    if (ws !== socket) return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    onSignal(message);
  };
  ws.onclose = () => {
    if (ws !== socket) return;
    showState(ui.signallingState, 'disconnected');
    closeSession();
    summarize('Disconnected from the server. Is the demo still running? Press Reconnect.', 'bad');
  };
}

function send(message) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function onSignal(message) {
  switch (message.type) {
    case 'welcome':
      showState(ui.signallingState, `connected (you are ${message.peerId.slice(0, 6)})`);
      summarize('Waiting for GStreamer…');
      break;
    case 'session-started':
      if (!message.initiator) openSession(message.sessionId);
      break;
    case 'session-message':
      if (message.sessionId === sessionId) enqueue(() => onPayload(message.payload));
      break;
    case 'session-ended':
      if (message.sessionId === sessionId) {
        closeSession();
        summarize(`GStreamer ended the session (${message.reason}). Press Reconnect to start again.`, 'warn');
      }
      break;
    case 'error':
      console.warn(`signalling error ${message.code}: ${message.message}`);
      break;
  }
}

function enqueue(step) {
  work = work.then(step).catch((error) => {
    console.error(error);
    summarize(`Error: ${error.message}`, 'bad');
  });
}

// ---- the peer connection ----

function openSession(id) {
  closeSession();
  sessionId = id;
  pendingCandidates = [];
  const connection = new RTCPeerConnection({ iceServers: config.iceServers });
  pc = connection;
  const current = () => pc === connection;
  const remoteStream = new MediaStream();
  ui.remoteVideo.srcObject = remoteStream;
  connection.ontrack = (event) => {
    remoteStream.addTrack(event.track);
  };
  connection.onicecandidate = (event) => {
    if (!current()) return;
    const candidate = event.candidate === null ? null : event.candidate.toJSON();
    if (candidate !== null) window.demo.sentCandidates.push(candidate.candidate);
    send({ type: 'session-message', sessionId: id, payload: { type: 'ice', candidate } });
  };
  connection.onsignalingstatechange = () => current() && showState(ui.signalingState, connection.signalingState);
  connection.oniceconnectionstatechange = () => current() && showState(ui.iceState, connection.iceConnectionState);
  connection.onconnectionstatechange = () => {
    if (!current()) return;
    const state = connection.connectionState;
    showState(ui.connectionState, state);
    if (state === 'connected') summarizeConnected();
    else if (state === 'failed') summarize('The connection failed: no network path between this browser and GStreamer (see docs/demo.md on STUN/TURN).', 'bad');
    else if (state === 'disconnected') summarize('Connection interrupted…', 'warn');
  };
  summarize('Negotiating…');
}

function summarizeConnected() {
  summarize(localStream ? 'Connected: receiving from GStreamer and sending your camera' : 'Connected: receiving from GStreamer', 'good');
}

function closeSession() {
  pc?.close();
  pc = undefined;
  sessionId = undefined;
  pendingCandidates = [];
  previousBytes = new Map();
  ui.remoteVideo.srcObject = null;
  for (const element of [ui.signalingState, ui.iceState, ui.connectionState, ui.route]) showState(element, '–');
}

async function onPayload(payload) {
  const connection = pc;
  if (connection === undefined) return;
  if (payload.type === 'sdp') {
    await connection.setRemoteDescription(payload.sdp);
    if (payload.sdp.type === 'offer') {
      // Answer sendrecv even before the camera is on: sending can then start
      // later with replaceTrack(), without another offer/answer.
      for (const transceiver of connection.getTransceivers()) {
        if (transceiver.direction === 'recvonly') transceiver.direction = 'sendrecv';
      }
      await attachLocalTracks(connection);
      const answer = await connection.createAnswer();
      await connection.setLocalDescription(answer);
      send({ type: 'session-message', sessionId, payload: { type: 'sdp', sdp: { type: answer.type, sdp: answer.sdp } } });
    }
    for (const candidate of pendingCandidates.splice(0)) await connection.addIceCandidate(candidate);
  } else if (payload.type === 'ice' && payload.candidate !== null) {
    if (connection.remoteDescription === null) pendingCandidates.push(payload.candidate);
    else await connection.addIceCandidate(payload.candidate);
  }
}

// ---- camera and microphone ----

function cameraAvailable() {
  return window.isSecureContext && navigator.mediaDevices?.getUserMedia !== undefined;
}

async function attachLocalTracks(connection) {
  for (const transceiver of connection.getTransceivers()) {
    const kind = transceiver.receiver.track.kind;
    const track = localStream?.getTracks().find((t) => t.kind === kind) ?? null;
    if (transceiver.sender.track !== track) await transceiver.sender.replaceTrack(track);
  }
}

async function toggleCamera() {
  ui.camera.disabled = true;
  try {
    if (localStream === undefined) {
      localStream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
      ui.localVideo.srcObject = localStream;
      ui.camera.textContent = 'Stop sending';
    } else {
      for (const track of localStream.getTracks()) track.stop();
      localStream = undefined;
      ui.localVideo.srcObject = null;
      ui.camera.textContent = 'Send camera and microphone';
    }
    if (pc !== undefined) await attachLocalTracks(pc);
    if (pc?.connectionState === 'connected') summarizeConnected();
    ui.cameraNote.textContent = '';
  } catch (error) {
    ui.cameraNote.textContent = `Camera: ${error.message}`;
  } finally {
    ui.camera.disabled = false;
  }
}

// ---- live stats ----

async function showStats() {
  const connection = pc;
  if (connection === undefined || connection.connectionState === 'closed') return;
  const report = await connection.getStats();
  const byId = new Map([...report.values()].map((stats) => [stats.id, stats]));
  const rows = [];
  const bytesNow = new Map();
  for (const stats of report.values()) {
    const inbound = stats.type === 'inbound-rtp';
    if (!inbound && stats.type !== 'outbound-rtp') continue;
    const bytes = inbound ? stats.bytesReceived : stats.bytesSent;
    if (!bytes) continue;
    bytesNow.set(stats.id, { bytes, at: stats.timestamp });
    const before = previousBytes.get(stats.id);
    const bitrate = before && stats.timestamp > before.at ? ((bytes - before.bytes) * 8) / (stats.timestamp - before.at) : undefined;
    const frames = inbound ? stats.framesDecoded : stats.framesEncoded;
    rows.push([
      `${stats.kind} ${inbound ? 'from GStreamer' : 'to GStreamer'}`,
      byId.get(stats.codecId)?.mimeType?.replace(/^.*\//, '') ?? '–',
      stats.frameWidth ? `${stats.frameWidth}×${stats.frameHeight}` : '–',
      stats.framesPerSecond !== undefined ? String(Math.round(stats.framesPerSecond)) : '–',
      bitrate !== undefined ? `${Math.round(bitrate)} kbit/s` : '–',
      frames !== undefined ? String(frames) : '–',
      inbound ? String(stats.packetsLost ?? 0) : '–',
    ]);
  }
  previousBytes = bytesNow;
  renderStats(rows);
  showRoute(report, byId);
}

function renderStats(rows) {
  const body = rows.length === 0 ? [['no media yet']] : rows;
  ui.stats.replaceChildren(
    ...body.map((cells) => {
      const row = document.createElement('tr');
      for (const text of cells) {
        const cell = document.createElement('td');
        cell.textContent = text;
        if (cells.length === 1) cell.colSpan = 7;
        row.append(cell);
      }
      return row;
    }),
  );
}

function showRoute(report, byId) {
  const transport = [...report.values()].find((stats) => stats.type === 'transport');
  const pair = byId.get(transport?.selectedCandidatePairId);
  if (pair === undefined) return;
  const local = byId.get(pair.localCandidateId);
  const remote = byId.get(pair.remoteCandidateId);
  const rtt = pair.currentRoundTripTime !== undefined ? `, ${Math.round(pair.currentRoundTripTime * 1000)} ms round trip` : '';
  ui.route.textContent = `${local?.candidateType ?? '?'} ${local?.protocol ?? ''} → ${remote?.candidateType ?? '?'} ${remote?.address ?? ''}:${remote?.port ?? ''}${rtt}`;
}

// ---- start ----

ui.sound.addEventListener('change', () => {
  ui.remoteVideo.muted = !ui.sound.checked;
});
ui.camera.addEventListener('click', () => void toggleCamera());
ui.reconnect.addEventListener('click', () => {
  const old = socket;
  socket = undefined;
  old?.close();
  closeSession();
  connect();
});
ui.camera.disabled = !cameraAvailable();
if (!cameraAvailable()) {
  ui.cameraNote.textContent = window.isSecureContext
    ? 'This browser cannot capture a camera.'
    : 'Sending the camera needs a secure context: open this page over https (start the demo with --cert and --key) or as http://localhost on this machine.';
}
setInterval(() => void showStats().catch(() => undefined), STATS_INTERVAL_MS);

try {
  config = await (await fetch('config.json', { cache: 'no-store' })).json();
  connect();
} catch (error) {
  summarize(`Could not load the configuration: ${error.message}`, 'bad');
}
