// Replays fuzz cases (a JSON array in the file named by argv[2]) at the public
// API, one after the other, in this process. Before each it writes
// `begin <index>` to stdout (synchronously), so when the process dies the
// runner knows which case it was. A typed error is a correct answer; an
// operation that never settles is reported as `hang` and ends the process.
//   node scripts/fuzz/worker.cjs cases.json [--library path/to/dist/cjs/index.js]
const { readFileSync, writeSync } = require('node:fs');
const { join } = require('node:path');

const { Pipeline, WebRtcBin } = require(join(__dirname, '..', '..', 'dist', 'cjs', 'index.js'));

// Longer than every deadline the library keeps itself (createOffer waits up to 10 s
// for sink caps and then rejects; a data channel gives up opening after 15 s), so
// an operation still unsettled here has no deadline of its own: a real hang. A
// tighter value reported slow operations on a loaded machine as hangs.
const OPERATION_TIMEOUT_MS = 20_000;
const TYPED = new Set(['TypeError', 'RangeError', 'GstError', 'InvalidStateError', 'OperationError', 'MissingDependencyError']);
const say = (line) => writeSync(1, `${line}\n`);

let current = -1;
/** Awaits `promise`, or reports a hang and exits. Returns undefined when it rejected with a typed error. */
async function settle(promise, what) {
  let timer;
  const hang = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`hang: ${what}`)), OPERATION_TIMEOUT_MS)));
  try {
    return await Promise.race([promise, hang]);
  } catch (error) {
    if (String(error?.message).startsWith('hang: ')) {
      say(`hang ${current} ${what}`);
      process.exit(3);
    }
    check(error, what);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

function check(error, what) {
  if (!TYPED.has(error?.name)) say(`untyped ${current} ${what} ${JSON.stringify(`${error?.name}: ${error?.message}`).slice(0, 300)}`);
}

function attempt(fn, what) {
  try {
    return fn();
  } catch (error) {
    check(error, what);
    return undefined;
  }
}

function materialize(value) {
  if ('json' in value) return value.json;
  switch (value.special) {
    case 'NaN': return Number.NaN;
    case 'Infinity': return Number.POSITIVE_INFINITY;
    case 'bigint': return 2n ** 70n;
    case 'undefined': return undefined;
    case 'cyclic': { const object = { a: 1 }; object.self = object; return object; }
    case 'deep': { let object = {}; for (let i = 0; i < 10_000; i++) object = { inner: object }; return object; }
    case 'buffer': return Buffer.from('fuzz');
    case 'function': return () => 1;
    case 'symbol': return Symbol('fuzz');
    default: return null;
  }
}

const VP8 = 'videotestsrc is-live=true num-buffers=30 ! video/x-raw,width=64,height=48 ! vp8enc deadline=1 ! rtpvp8pay';

async function negotiated() {
  const a = new WebRtcBin();
  const b = new WebRtcBin();
  a.addTransceiver('video');
  a.createDataChannel('fuzz');
  const offer = await settle(a.createOffer(), 'createOffer');
  if (offer) {
    await settle(a.setLocalDescription(offer), 'setLocalDescription');
    await settle(b.setRemoteDescription(offer), 'setRemoteDescription');
  }
  return { a, b };
}

const run = {
  async sdp(input) {
    const b = new WebRtcBin();
    try {
      if (input.withChannel) b.createDataChannel('local');
      if (input.withTransceiver) b.addTransceiver('audio');
      if (input.type === 'answer' || input.type === 'pranswer') {
        const own = await settle(b.createOffer(), 'createOffer');
        if (own) await settle(b.setLocalDescription(own), 'setLocalDescription(own offer)');
      }
      const applied = await settle(b.setRemoteDescription({ type: input.type, sdp: input.sdp }).then(() => true), `setRemoteDescription(${input.type})`);
      if (applied && input.type === 'offer') {
        const answer = await settle(b.createAnswer(), 'createAnswer');
        if (answer) await settle(b.setLocalDescription(answer), 'setLocalDescription(answer)');
        if (input.reoffer) {
          const again = await settle(b.setRemoteDescription({ type: 'offer', sdp: input.reoffer }).then(() => true), 'setRemoteDescription(re-offer)');
          if (again) await settle(b.createAnswer(), 'createAnswer(re-offer)');
        }
        await settle(b.createOffer(), 'createOffer(after)');
      }
      attempt(() => b.getTransceivers(), 'getTransceivers');
    } finally {
      b.close();
    }
  },

  async candidate(input) {
    const { a, b } = await negotiated();
    try {
      for (const candidate of input.candidates) await settle(b.addIceCandidate(candidate), 'addIceCandidate');
    } finally {
      a.close();
      b.close();
    }
  },

  async pipeline(input) {
    if (input.via === 'pipeline') {
      const pipeline = attempt(() => new Pipeline(input.description), 'new Pipeline');
      if (pipeline && input.play) {
        // A pipeline that cannot preroll (an appsrc nobody feeds) stays in its
        // asynchronous change to PLAYING, as GStreamer intends: not a hang of ours.
        await Promise.race([pipeline.play().catch((error) => check(error, 'play')), new Promise((resolve) => setTimeout(resolve, 2000))]);
      }
      pipeline?.close();
    } else if (input.via === 'add') {
      const pipeline = new Pipeline();
      attempt(() => pipeline.add(input.description), 'add');
      pipeline.close();
    } else {
      const webrtcbin = new WebRtcBin();
      attempt(() => webrtcbin.addTrack(input.description), 'addTrack');
      webrtcbin.close();
    }
  },

  async property(input) {
    const pipeline = new Pipeline(`${input.element} name=target`);
    try {
      const element = pipeline.getElement('target');
      for (const { property, value } of input.sets) {
        attempt(() => element.set(property, materialize(value)), `set ${property}`);
        attempt(() => element.get(property), `get ${property}`);
      }
    } finally {
      pipeline.close();
    }
  },

  async calls(input) {
    const peers = { a: new WebRtcBin(), b: new WebRtcBin() };
    const last = { a: {}, b: {} };
    const channels = [];
    try {
      for (const { on, operation, arg } of input.calls) {
        const self = peers[on];
        const other = peers[on === 'a' ? 'b' : 'a'];
        const peerLast = last[on === 'a' ? 'b' : 'a'];
        switch (operation) {
          case 'createOffer': last[on].offer = (await settle(self.createOffer(), operation)) ?? last[on].offer; break;
          case 'createAnswer': last[on].answer = (await settle(self.createAnswer(), operation)) ?? last[on].answer; break;
          case 'setLocalOwn': { const own = arg % 2 ? last[on].answer : last[on].offer; if (own) await settle(self.setLocalDescription(own), operation); break; }
          case 'setLocalForeign': { const foreign = arg % 2 ? peerLast.answer : peerLast.offer; if (foreign) await settle(self.setLocalDescription(foreign), operation); break; }
          case 'setRemotePeer': { const theirs = arg % 2 ? peerLast.answer : peerLast.offer; if (theirs) await settle(self.setRemoteDescription(theirs), operation); break; }
          case 'setRemoteSelf': { const own = arg % 2 ? last[on].answer : last[on].offer; if (own) await settle(self.setRemoteDescription(own), operation); break; }
          case 'rollbackLocal': await settle(self.setLocalDescription({ type: 'rollback', sdp: '' }), operation); break;
          case 'rollbackRemote': await settle(self.setRemoteDescription({ type: 'rollback', sdp: '' }), operation); break;
          case 'addTransceiver': attempt(() => self.addTransceiver(arg % 2 ? 'audio' : 'video', { direction: ['sendrecv', 'sendonly', 'recvonly', 'inactive'][arg] }), operation); break;
          case 'createDataChannel': { const channel = attempt(() => self.createDataChannel(`c${arg}`, arg === 3 ? { negotiated: true, id: 1 } : {}), operation); if (channel) channels.push(channel); break; }
          case 'addTrack': attempt(() => self.addTrack(VP8), operation); break;
          case 'addIceCandidate': await settle(self.addIceCandidate({ candidate: 'candidate:1 1 UDP 2122260223 127.0.0.1 50000 typ host', sdpMLineIndex: arg }), operation); break;
          case 'getStats': await settle(self.getStats(), operation); break;
          case 'getTransceivers': attempt(() => self.getTransceivers(), operation); break;
          case 'close': self.close(); break;
          case 'closeChannel': channels[arg % Math.max(1, channels.length)]?.close(); break;
          case 'setDirection': attempt(() => { const transceiver = self.getTransceivers()[0]; if (transceiver) transceiver.direction = ['sendrecv', 'sendonly', 'recvonly', 'inactive'][arg]; }, operation); break;
        }
        void other;
      }
    } finally {
      peers.a.close();
      peers.b.close();
    }
  },
};

async function main() {
  const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  for (let index = 0; index < cases.length; index++) {
    current = index;
    say(`begin ${index}`);
    try {
      await run[cases[index].kind](cases[index]);
    } catch (error) {
      check(error, `${cases[index].kind} case`);
    }
  }
  say('done');
  process.exit(0);
}

main();
