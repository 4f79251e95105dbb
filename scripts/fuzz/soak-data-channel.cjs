// Teardown races under load, for the sanitizer build: two WebRtcBins in this
// process exchange data channel traffic, and in each cycle one side closes the
// channel, its WebRtcBin or the peer's while messages are in flight (issue 10
// case 8: sctpdec pushing into a freed queue). Prints `cycles <n> {outcomes}` at
// the end, then leaves the process to exit by itself: a thread or handle left
// behind is a hang, which the runner reports. A crash or a sanitizer report ends
// the process instead.
//   node scripts/fuzz/soak-data-channel.cjs <seconds>
const { WebRtcBin } = require('../../dist/cjs/index.js');

const seconds = Number(process.argv[2] ?? 30);
const OPEN_TIMEOUT_MS = 10_000;
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`'s value, or `fallback` after `ms`; the timer does not outlive it (the process must exit by itself). */
function within(promise, ms, fallback) {
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, ms, fallback)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function connect(a, b) {
  let queue = Promise.resolve();
  const later = (step) => (queue = queue.then(step).catch(() => undefined));
  a.on('icecandidate', (candidate) => candidate && later(() => b.addIceCandidate(candidate)));
  b.on('icecandidate', (candidate) => candidate && later(() => a.addIceCandidate(candidate)));
  a.on('negotiationneeded', () =>
    later(async () => {
      const offer = await a.createOffer();
      await a.setLocalDescription(offer);
      await b.setRemoteDescription(offer);
      const answer = await b.createAnswer();
      await b.setLocalDescription(answer);
      await a.setRemoteDescription(answer);
    }),
  );
}

async function cycle(variant, index) {
  const a = new WebRtcBin();
  const b = new WebRtcBin();
  try {
    connect(a, b);
    const channel = a.createDataChannel(`soak-${index}`);
    const remote = new Promise((resolve) => b.on('datachannel', resolve));
    const opened = await within(new Promise((resolve) => channel.once('open', () => resolve(true))), OPEN_TIMEOUT_MS, false);
    if (!opened) return 'no-open';
    const peerChannel = await within(remote, OPEN_TIMEOUT_MS, undefined);
    peerChannel?.on('message', () => undefined);
    const payload = Buffer.alloc(16 * 1024, index & 0xff);
    let sending = true;
    const pump = () => {
      try {
        while (sending && channel.readyState === 'open' && channel.bufferedAmount < 1024 * 1024) channel.send(payload);
      } catch (error) {
        // The peer closed it under us: a typed error is the right answer; anything else is a bug.
        if (error.name !== 'InvalidStateError') throw error;
        sending = false;
      }
      if (sending && channel.readyState === 'open') setImmediate(pump);
    };
    pump();
    await wait(20 + ((index * 37) % 200));
    switch (variant) {
      case 0: channel.close(); break; // the sender closes the channel mid-traffic
      case 1: peerChannel?.close(); break; // the receiver closes it
      case 2: b.close(); break; // the receiving peer goes away
      default: a.close(); // the sending peer goes away
    }
    await wait((index * 13) % 50);
    sending = false;
    return 'ok';
  } finally {
    a.close();
    b.close();
  }
}

(async () => {
  const deadline = Date.now() + seconds * 1000;
  const outcomes = {};
  let cycles = 0;
  while (Date.now() < deadline) {
    const outcome = await cycle(cycles % 4, cycles);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    cycles++;
  }
  process.stdout.write(`cycles ${cycles} ${JSON.stringify(outcomes)}\n`);
})();
