// Fuzz cases: mutated SDP, candidates, pipeline descriptions, property values
// and call orders, each a plain JSON object (saved as is when it finds
// something, and replayed by worker.cjs). Deterministic for a given seed.
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const SEEDS = join(__dirname, '..', '..', 'test', 'fixtures', 'fuzz', 'seeds');

/** mulberry32: small, seedable. */
function random(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (list) => list[int(list.length)];
  return { next, int, pick, chance: (p) => next() < p };
}

function loadSeeds() {
  return readdirSync(SEEDS)
    .filter((name) => name.endsWith('.sdp'))
    .map((name) => ({ name, sdp: readFileSync(join(SEEDS, name), 'utf8'), type: name.includes('-offer') ? 'offer' : 'answer' }));
}

const ATTRIBUTES = [
  'a=ice-pwd:AAAAAAAAAAAAAAAAAAAAAAAA', 'a=ice-ufrag:zzzz', 'a=ice-pwd:', 'a=ice-ufrag:', 'a=mid:0', 'a=mid:', 'a=mid:video0', 'a=mid:x y',
  'a=group:BUNDLE', 'a=group:BUNDLE 0 1 2 3 4', 'a=group:BUNDLE nosuch', 'a=setup:holdconn', 'a=setup:active', 'a=setup:',
  'a=fingerprint:sha-256 00', 'a=fingerprint:md5 ZZ', 'a=rtpmap:96 VP8/90000', 'a=rtpmap:96', 'a=rtpmap:127 H264/0', 'a=rtpmap:-1 X/1/1',
  'a=fmtp:96 profile-level-id=zz;packetization-mode=9', 'a=ssrc:1 cname:x', 'a=ssrc:4294967295 cname:', 'a=ssrc-group:FID 1', 'a=ssrc-group:FID 1 2 3',
  'a=sctp-port:0', 'a=sctp-port:65536', 'a=sctp-port:-1', 'a=max-message-size:0', 'a=max-message-size:99999999999999', 'a=sctpmap:5000 webrtc-datachannel 1024',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid', 'a=extmap:15 x', 'a=extmap:0', 'a=rtcp-mux', 'a=rtcp-rsize', 'a=bundle-only', 'a=ice-lite',
  'a=sendonly', 'a=recvonly', 'a=inactive', 'a=sendrecv', 'a=rtcp-fb:96 nack', 'a=rtcp-fb:* transport-cc', 'a=msid:- -', 'a=end-of-candidates',
  'a=candidate:1 1 UDP 2122260223 127.0.0.1 50000 typ host', 'a=candidate:x', 'a=rid:h send', 'a=simulcast:send h;l', 'a=ice-options:ice2',
];
const MEDIA_LINES = ['m=video 9 UDP/TLS/RTP/SAVPF 96', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'm=video 0 UDP/TLS/RTP/SAVPF 96', 'm=application 9 DTLS/SCTP 5000', 'm=text 9 RTP/AVP 0', 'm=video 9 UDP/TLS/RTP/SAVPF 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33'];
const TOKENS = ['0', '-1', '4294967296', '99999999999999999999', '', ' ', 'x', '%s%n', '\u0000', 'é', 'a'.repeat(5000), '1/0', 'NaN', ':', '::::'];

/** Line-level SDP mutations, 1 to 4 of them. */
function mutateSdp(rng, sdp) {
  let lines = sdp.split(/\r?\n/).filter((line) => line !== '');
  const count = 1 + rng.int(4);
  for (let i = 0; i < count; i++) {
    if (lines.length === 0) lines.push('v=0');
    const at = rng.int(lines.length);
    switch (rng.int(10)) {
      case 0: lines.splice(at, 1); break; // drop a line
      case 1: lines.splice(at, 0, lines[at]); break; // repeat a line
      case 2: lines.splice(at, 0, rng.pick(ATTRIBUTES)); break; // insert an attribute
      case 3: lines.splice(at, 0, rng.pick(MEDIA_LINES), 'a=mid:' + rng.pick(['0', '1', 'fuzz', 'video0'])); break;
      case 4: { // swap two m-sections
        const starts = lines.map((line, index) => (line.startsWith('m=') ? index : -1)).filter((index) => index >= 0);
        if (starts.length < 2) break;
        const sections = starts.map((start, index) => lines.slice(start, starts[index + 1] ?? lines.length));
        const head = lines.slice(0, starts[0]);
        const x = rng.int(sections.length);
        const y = rng.int(sections.length);
        [sections[x], sections[y]] = [sections[y], sections[x]];
        lines = [...head, ...sections.flat()];
        break;
      }
      case 5: { // replace a value token
        const parts = lines[at].split(/([ :/=;])/);
        const index = rng.int(parts.length);
        if (index > 0) parts[index] = rng.pick(TOKENS);
        lines[at] = parts.join('');
        break;
      }
      case 6: lines.splice(at, 0, rng.pick(ATTRIBUTES).replace(/^a=/, 'a=')); lines.splice(3, 0, rng.pick(ATTRIBUTES)); break; // session level too
      case 7: lines[at] = lines[at].slice(0, rng.int(lines[at].length + 1)); break; // truncate a line
      case 8: { // flip a character
        const line = lines[at];
        const index = rng.int(Math.max(1, line.length));
        lines[at] = line.slice(0, index) + String.fromCharCode(32 + rng.int(95)) + line.slice(index + 1);
        break;
      }
      default: lines = lines.slice(0, rng.int(lines.length) + 1); // cut the description
    }
  }
  return lines.join('\r\n') + '\r\n';
}

const SAFE_ELEMENTS = ['fakesrc', 'fakesink', 'identity', 'queue', 'tee', 'videotestsrc', 'audiotestsrc', 'capsfilter', 'videoconvert', 'audioconvert', 'vp8enc', 'rtpvp8pay', 'opusenc', 'rtpopuspay', 'appsrc', 'funnel', 'input-selector', 'valve', 'webrtcbin', 'rtpbin', 'nosuchelement'];
const PROPERTIES = ['num-buffers=true', 'num-buffers=-1', 'num-buffers=1', 'is-live=true', 'name=a', 'name=b', 'name=t', 'foo=1', 'caps="video/x-raw"', 'caps=garbage', 'sync=false', 'silent=x', 'pattern=99', 'bundle-policy=max-bundle', 'leaky=9', 'max-size-buffers=0'];
const LINKS = [' ! ', ' ! ', ' ! ', ' ', ' ! video/x-raw,width=16 ! ', ' ! application/x-rtp ! ', ' !! ', ' ! ( ', ' ) ', ' : '];
const REFERENCES = ['a.', 'b.', 't.', 'a.src', 't.src_0', 'b.sink', 'nosuch.', 'a.src,b'];
/** Never in a description: elements that touch files, the network or the display. */
const DENIED = /file|udp|tcp|http|soup|rtsp|rtmp|srt|:\/\/|ximage|xvimage|autovideo|autoaudio|alsa|pulse|v4l2|gl|shm|fd|multisocket/i;

function pipelineDescription(rng) {
  const parts = [];
  const count = 1 + rng.int(6);
  for (let i = 0; i < count; i++) {
    const element = rng.chance(0.3) ? rng.pick(REFERENCES) : [rng.pick(SAFE_ELEMENTS), ...Array.from({ length: rng.int(3) }, () => rng.pick(PROPERTIES))].join(' ');
    parts.push(element);
    if (i < count - 1) parts.push(rng.pick(LINKS));
  }
  const description = parts.join('');
  return DENIED.test(description) ? 'fakesrc num-buffers=1 ! fakesink' : description;
}

const VALUES = [
  { json: 0 }, { json: -1 }, { json: 1e308 }, { json: 2 ** 53 }, { json: -(2 ** 63) }, { special: 'NaN' }, { special: 'Infinity' }, { special: 'bigint' },
  { json: '' }, { json: 'x'.repeat(100_000) }, { json: 'a+b+c' }, { json: '30/1' }, { json: 'video/x-raw' }, { json: 'garbage, =' }, { json: true }, { json: null },
  { special: 'undefined' }, { json: [] }, { json: [1, 'a', null] }, { json: {} }, { json: { a: { b: { c: 1 } } } }, { special: 'cyclic' }, { special: 'deep' },
  { special: 'buffer' }, { special: 'function' }, { special: 'symbol' }, { json: { cname: 'x', ssrc: -5, n: 1.5, s: 'y', nested: { t: true } } },
];
const PROPERTY_TARGETS = {
  webrtcbin: ['bundle-policy', 'ice-transport-policy', 'latency', 'stun-server-x', 'local-description', 'signaling-state', 'name', 'parent', 'sctp-transport', 'ice-agent'],
  rtpbin: ['sdes', 'latency', 'drop-on-latency', 'rtp-profile', 'max-rtcp-rtp-time-diff', 'fec-decoders', 'fec-encoders'],
  capsfilter: ['caps', 'caps-change-mode'],
  videotestsrc: ['pattern', 'num-buffers', 'timestamp-offset', 'foreground-color', 'animation-mode'],
  queue: ['max-size-buffers', 'max-size-time', 'leaky', 'min-threshold-time'],
  appsrc: ['caps', 'format', 'max-bytes', 'stream-type'],
};

const OPERATIONS = ['createOffer', 'createAnswer', 'setLocalOwn', 'setLocalForeign', 'setRemotePeer', 'setRemoteSelf', 'rollbackLocal', 'rollbackRemote', 'addTransceiver', 'createDataChannel', 'addTrack', 'addIceCandidate', 'getStats', 'getTransceivers', 'close', 'closeChannel', 'setDirection'];

const CANDIDATES = [
  'candidate:1 1 UDP 2122260223 127.0.0.1 50000 typ host', 'candidate:1 1 UDP 2122260223 127.0.0.1 0 typ host', 'candidate:1 1 UDP 2122260223 ::1 50000 typ host',
  'candidate:1 1 TCP 2122260223 127.0.0.1 9 typ host tcptype active', 'candidate:1 2 UDP 1 127.0.0.1 65535 typ relay raddr 127.0.0.1 rport 1',
  'candidate:1 1 UDP 2122260223 abcd.local 50000 typ host', 'candidate:1 999 UDP 4294967296 127.0.0.1 50000 typ host', 'candidate:x y z',
  'candidate:1 1 UDP 2122260223 127.0.0.1 50000 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag x network-cost 999',
  'candidate:1 1 UDP 2122260223 127.0.0.1 50000 typ host ' + 'x '.repeat(2000), '', 'a=candidate:1 1 udp 1 127.0.0.1 1 typ host',
];

/** One case: `kind` and what the worker needs to replay it. */
function generateCase(seed, seeds) {
  const rng = random(seed);
  const kind = rng.pick(['sdp', 'sdp', 'sdp', 'candidate', 'pipeline', 'property', 'calls', 'calls']);
  switch (kind) {
    case 'sdp': {
      const base = rng.pick(seeds);
      return { kind, seed, base: base.name, type: rng.chance(0.9) ? base.type : rng.pick(['offer', 'answer', 'pranswer']), sdp: mutateSdp(rng, base.sdp), withChannel: rng.chance(0.5), withTransceiver: rng.chance(0.5), reoffer: rng.chance(0.3) ? mutateSdp(rng, base.sdp) : null };
    }
    case 'candidate':
      return { kind, seed, candidates: Array.from({ length: 1 + rng.int(4) }, () => ({ candidate: rng.chance(0.7) ? rng.pick(CANDIDATES) : mutateSdp(rng, rng.pick(CANDIDATES)).trim(), sdpMLineIndex: rng.pick([0, 1, 2, -1, 99, null, 0.5, undefined]), sdpMid: rng.pick(['0', 'video0', '', null, undefined, 'x'.repeat(300)]) })) };
    case 'pipeline':
      return { kind, seed, description: pipelineDescription(rng), via: rng.pick(['pipeline', 'add', 'addTrack']), play: rng.chance(0.3) };
    case 'property': {
      const element = rng.pick(Object.keys(PROPERTY_TARGETS));
      return { kind, seed, element, sets: Array.from({ length: 1 + rng.int(4) }, () => ({ property: rng.chance(0.9) ? rng.pick(PROPERTY_TARGETS[element]) : rng.pick(['', 'x'.repeat(1000), '__proto__', 'constructor']), value: rng.pick(VALUES) })) };
    }
    default:
      return { kind: 'calls', seed, calls: Array.from({ length: 2 + rng.int(10) }, () => ({ on: rng.pick(['a', 'b']), operation: rng.pick(OPERATIONS), arg: rng.int(4) })) };
  }
}

module.exports = { generateCase, loadSeeds, random };
