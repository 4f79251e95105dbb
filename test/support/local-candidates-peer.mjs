// Run by test/peer-session.test.ts in a mount namespace whose resolver records every query:
// two WebRtcBins connect while each is also given a browser's mDNS (.local) host candidate.
// Then a control lookup proves the recording resolver is the one in use. Prints one JSON line.
import { lookup } from 'node:dns/promises';

import { PeerConnector, WebRtcBin } from '../../dist/esm/index.mjs';

const VP8_SOURCE = 'videotestsrc is-live=true ! video/x-raw,width=160,height=120 ! vp8enc deadline=1 ! rtpvp8pay pt=96';
const tx = new WebRtcBin();
const rx = new WebRtcBin();
const problems = [];
for (const webrtcbin of [tx, rx]) {
  webrtcbin.pipeline.on('error', (error) => problems.push(error.message));
  webrtcbin.pipeline.on('warning', (warning) => problems.push(warning.message));
}
tx.addTrack(VP8_SOURCE);
// Each side also gets a browser-style candidate for a host hidden behind an mDNS name, as each
// real candidate arrives.
const mdnsCandidate = (uuid) => `candidate:2305140872 1 udp 2113937151 ${uuid}.local 59123 typ host generation 0 ufrag Dww9 network-cost 999`;
let added = 0;
for (const [webrtcbin, uuid] of [[rx, 'f57cdb03-952f-4975-83e6-bbf4f03b0e65'], [tx, '3c7e0a1b-5d2f-4e61-9a0c-7f1e2d3c4b5a']]) {
  const original = webrtcbin.addIceCandidate.bind(webrtcbin);
  webrtcbin.addIceCandidate = async (candidate) => {
    await original(candidate);
    if (candidate !== null && added < 4) {
      added++;
      await original({ candidate: mdnsCandidate(uuid), sdpMLineIndex: 0 });
    }
  };
}
const connected = (webrtcbin) =>
  new Promise((resolve) => webrtcbin.on('connectionstatechange', (state) => state === 'connected' && resolve()));
const bothConnected = Promise.all([connected(tx), connected(rx)]);
await PeerConnector.pair(tx, rx);
await bothConnected;
const control = await lookup('control.gst-webrtc-node.test').then(() => 'resolved', (error) => error.code);
console.log(JSON.stringify({ problems, added, control, connectionState: rx.connectionState }));
tx.close();
rx.close();
