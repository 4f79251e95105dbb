// The demo's WHEP player mode: plays any WHEP endpoint with fetch and
// RTCPeerConnection, trickling candidates with PATCH when the server accepts it.
// ?endpoint=<url> fills the endpoint (default: /whep on this server) and starts playing.

const $ = (id) => document.getElementById(id);

/**
 * Plays a WHEP endpoint into a <video>. Returns { pc, resource, stop() }.
 * @param {string} endpoint
 * @param {{ token?: string, video: HTMLVideoElement, onState?: (state: string) => void }} options
 */
export async function playWhep(endpoint, options) {
  const headers = options.token ? { Authorization: `Bearer ${options.token}` } : {};
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.ontrack = ({ streams, track }) => {
    options.video.srcObject = streams[0] ?? new MediaStream([track]);
  };
  pc.onconnectionstatechange = () => options.onState?.(pc.connectionState);

  let resource = null;
  const pending = [];
  const patch = async (lines) => {
    if (!resource?.trickle) return;
    const sdp = pc.localDescription.sdp;
    const [ufrag, pwd, mid] = ['ice-ufrag', 'ice-pwd', 'mid'].map((name) => new RegExp(`a=${name}:(\\S+)`).exec(sdp)?.[1]);
    const body = `a=ice-ufrag:${ufrag}\r\na=ice-pwd:${pwd}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:${mid}\r\n${lines.join('\r\n')}\r\n`;
    const response = await fetch(resource.url, {
      method: 'PATCH',
      headers: { ...headers, 'Content-Type': 'application/trickle-ice-sdpfrag', ...(resource.etag ? { 'If-Match': resource.etag } : {}) },
      body,
    });
    // Trickle is optional: a server that refuses it still has our first candidates' checks.
    if (response.status === 405 || response.status === 501) resource.trickle = false;
  };
  pc.onicecandidate = ({ candidate }) => {
    const line = candidate === null || candidate.candidate === '' ? 'a=end-of-candidates' : `a=${candidate.candidate}`;
    if (resource === null) pending.push(line);
    else void patch([line]);
  };

  await pc.setLocalDescription(await pc.createOffer());
  const response = await fetch(endpoint, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
  if (response.status !== 201 && response.status !== 200) {
    pc.close();
    throw new Error(`the server answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
  }
  const location = response.headers.get('Location');
  resource = {
    url: location === null ? null : new URL(location, response.url).href,
    etag: response.headers.get('ETag'),
    trickle: location !== null && (response.headers.get('Accept-Patch') ?? '').includes('application/trickle-ice-sdpfrag'),
  };
  await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  if (pending.length > 0) void patch(pending.splice(0));
  return {
    pc,
    resource: resource.url,
    async stop() {
      pc.close();
      if (resource.url !== null) await fetch(resource.url, { method: 'DELETE', headers }).catch(() => undefined);
    },
  };
}

function summary(text, tone = 'neutral') {
  $('summary').textContent = text;
  $('summary').dataset.tone = tone;
}

let session = null;
let statsTimer = null;

async function showStats() {
  if (session === null) return;
  let text = 'no video yet';
  (await session.pc.getStats()).forEach((stats) => {
    if (stats.type === 'inbound-rtp' && stats.kind === 'video' && stats.framesDecoded > 0) {
      text = `${stats.frameWidth}×${stats.frameHeight}, ${stats.framesPerSecond ?? 0} frames/s, ${stats.framesDecoded} decoded`;
    }
  });
  $('video-stats').textContent = text;
}

async function play() {
  await stop();
  summary('Connecting…');
  try {
    session = await playWhep($('endpoint').value, {
      token: $('token').value || undefined,
      video: $('video'),
      onState: (state) => {
        $('connection-state').textContent = state;
        if (state === 'connected') summary('Playing.', 'good');
        if (state === 'failed') summary('The connection failed.', 'bad');
      },
    });
    window.whep = session; // for tests and the console
    $('resource').textContent = session.resource ?? '(no Location)';
    $('stop').disabled = false;
    statsTimer = setInterval(showStats, 1000);
  } catch (error) {
    summary(error.message, 'bad');
  }
}

async function stop() {
  clearInterval(statsTimer);
  if (session !== null) await session.stop();
  session = null;
  $('stop').disabled = true;
}

const params = new URLSearchParams(location.search);
$('endpoint').value = params.get('endpoint') ?? new URL('/whep', location.href).href;
$('form').addEventListener('submit', (event) => {
  event.preventDefault();
  void play();
});
$('stop').addEventListener('click', () => void stop().then(() => summary('Stopped.')));
if (params.has('endpoint') || params.has('autoplay')) void play();
