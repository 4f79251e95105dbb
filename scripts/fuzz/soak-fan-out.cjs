// Fan-out teardown under load, for the sanitizer build (issue 10: a
// `malloc_consolidate(): invalid chunk size` abort seen once when the bench tore
// down a fan-out with 50 viewers). Each cycle starts a MediaFanOut, joins
// `viewers` receiving WebRtcBins to it (all in this process), waits until every
// receiver has had media, and tears everything down in one of four orders while
// media flows. Prints `cycles <n> {outcomes}` at the end, then leaves the
// process to exit by itself: a thread or handle left behind is a hang, which
// the runner reports. A crash or a sanitizer report ends the process instead.
//   node scripts/fuzz/soak-fan-out.cjs <seconds> [viewers]
const { MediaFanOut, PeerConnector, WebRtcBin } = require('../../dist/cjs/index.js');

const seconds = Number(process.argv[2] ?? 60);
const viewerCount = Number(process.argv[3] ?? 50);
/** Viewers negotiating at once: the bench's figure 5 joins them in bursts like this. */
const JOIN_BURST = 10;
const MEDIA_TIMEOUT_MS = 20_000;
const SOURCE = 'videotestsrc is-live=true pattern=ball ! video/x-raw,width=160,height=120,framerate=15/1';
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves true once `receiver` has rendered a buffer, false after the timeout. */
async function mediaArrives(receiver) {
  const deadline = Date.now() + MEDIA_TIMEOUT_MS;
  let sink = null;
  while (Date.now() < deadline) {
    sink ??= receiver.pipeline.getElement('frames');
    if ((sink?.get('stats')?.rendered ?? 0) > 0) return true;
    await wait(50);
  }
  return false;
}

async function join(fanOut) {
  const sender = fanOut.addViewer();
  const receiver = new WebRtcBin();
  receiver.on('track', (track) => track.link('rtpvp8depay ! fakesink name=frames sync=false async=false'));
  await PeerConnector.pair(sender, receiver);
  return { sender, receiver, flowing: mediaArrives(receiver) };
}

/** The four teardown orders, all while media flows. */
async function tearDown(variant, fanOut, pairs) {
  switch (variant) {
    case 0: // the application closes the fan-out with every viewer live
      fanOut.close();
      break;
    case 1: // every peer vanishes at once, then the application closes the fan-out
      for (const { receiver } of pairs) receiver.close();
      await wait(100);
      fanOut.close();
      break;
    case 2: // every viewer removed at once, then the fan-out closed
      await Promise.all(pairs.map(({ sender }) => fanOut.removeViewer(sender)));
      fanOut.close();
      break;
    default: // senders and receivers closed in one turn, interleaved, the fan-out closed mid-way
      pairs.forEach(({ sender, receiver }, index) => {
        if (index === pairs.length >> 1) fanOut.close();
        (index % 2 === 0 ? sender : receiver).close();
        (index % 2 === 0 ? receiver : sender).close();
      });
  }
  for (const { receiver } of pairs) receiver.close();
}

async function cycle(index) {
  const fanOut = new MediaFanOut({ video: { source: SOURCE, codec: 'VP8', bitrate: 200 } });
  const pairs = [];
  try {
    await fanOut.start();
    while (pairs.length < viewerCount) {
      const burst = Math.min(JOIN_BURST, viewerCount - pairs.length);
      pairs.push(...(await Promise.all(Array.from({ length: burst }, () => join(fanOut)))));
    }
    const flowing = await Promise.all(pairs.map((pair) => pair.flowing));
    // Where a viewer without media got stuck, for whoever reads the soak's output.
    pairs.forEach(({ sender, receiver }, viewer) => {
      if (flowing[viewer]) return;
      const state = (peer) => `${peer.signalingState}/${peer.iceConnectionState}/${peer.connectionState}`;
      process.stderr.write(`note: cycle ${index} viewer ${viewer}: no media; sender ${state(sender)}, receiver ${state(receiver)}\n`);
    });
    await wait((index * 37) % 300);
    await tearDown(index % 4, fanOut, pairs);
    return flowing.every(Boolean) ? 'ok' : 'no-media';
  } finally {
    fanOut.close();
    for (const { receiver } of pairs) receiver.close();
  }
}

(async () => {
  const deadline = Date.now() + seconds * 1000;
  const outcomes = {};
  let cycles = 0;
  // At least one cycle, whatever the time: a cycle of 50 viewers is long on the sanitizer build.
  do {
    const outcome = await cycle(cycles);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    cycles++;
  } while (Date.now() < deadline);
  process.stdout.write(`cycles ${cycles} ${JSON.stringify(outcomes)}\n`);
})();
