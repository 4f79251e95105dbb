// A WebRtcBin in a child process, started inside a shaped link's namespace
// (`ip netns exec NS node shaped-link-peer.cjs`), driven over stdio with one
// JSON object a line (see NamespacePeer in shaped-link-peers.ts):
//   in:  {"id":1,"call":"send","source":"..."}   a WebRtcBin that offers this track
//        {"id":2,"call":"set","element":"gate","property":"drop","value":false}
//        {"id":3,"call":"rendered","element":"sent"}  GstBaseSink stats.rendered
//        {"id":3,"call":"get","element":"x","property":"y"}
//        {"id":4,"call":"stats"}                      the WebRtcBin's getStats()
//        {"signal":{...}}                              a message for its PeerConnector
//   out: {"id":1,"result":...} or {"id":1,"error":"..."}, {"signal":{...}}
// It uses the built package (dist/), as a user would; it exits when stdin closes.
const { createInterface } = require('node:readline');
const { join } = require('node:path');

const { PeerConnector, WebRtcBin } = require(join(__dirname, '../../dist/cjs/index.js'));

let webrtcbin;
let connector;
const write = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

const calls = {
  send({ source, options }) {
    webrtcbin = new WebRtcBin(options ?? {});
    webrtcbin.addTrack(source);
    connector = new PeerConnector(webrtcbin, { role: 'offerer', send: (signal) => write({ signal }) });
    connector.on('error', (error) => process.stderr.write(`signalling: ${error.message}\n`));
    return null;
  },
  set({ element, property, value }) {
    webrtcbin.pipeline.getElement(element).set(property, value);
    return null;
  },
  get({ element, property }) {
    return webrtcbin.pipeline.getElement(element)?.get(property) ?? null;
  },
  rendered({ element }) {
    return webrtcbin.pipeline.getElement(element)?.get('stats')?.rendered ?? 0;
  },
  stats: () => webrtcbin.getStats(),
};

const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const message = JSON.parse(line);
  if (message.signal !== undefined) {
    await connector?.handle(message.signal);
    return;
  }
  try {
    write({ id: message.id, result: await calls[message.call](message) });
  } catch (error) {
    write({ id: message.id, error: String(error && error.stack ? error.stack : error) });
  }
});
lines.on('close', () => {
  connector?.close();
  webrtcbin?.close();
  process.exit(0);
});
