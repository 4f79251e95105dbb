// Loopback: a test pattern and a test tone, sent from one webrtcbin to another in
// this process over real ICE, DTLS and SRTP, decoded on the other side.
//   node examples/loopback.mjs [seconds]
import { PeerConnector, Pipeline, WebRtcBin } from 'gst-webrtc-node';

const seconds = Number(process.argv[2] ?? 5);

// The sender is a pipeline of our own. Under BUNDLE each stream needs its own payload type.
const sender = new Pipeline(`
  videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=30/1
    ! vp8enc deadline=1 ! rtpvp8pay pt=96 ! webrtcbin name=tx bundle-policy=max-bundle
  audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! opusenc ! rtpopuspay pt=111 ! tx.`);
const tx = sender.getWebRtcBin('tx');

// The receiver is a standalone WebRtcBin with a pipeline of its own.
const rx = new WebRtcBin({ latency: 50 });
rx.on('track', (track) => {
  console.log(`track: ${track.kind} ${track.encodingName}`);
  if (track.kind === 'video') track.link('rtpvp8depay ! vp8dec ! fakesink name=video');
  else track.link('rtpopusdepay ! opusdec ! fakesink name=audio');
});
rx.on('connectionstatechange', (state) => console.log(`connection: ${state}`));
sender.on('error', (error) => console.error(`sender error: ${error.message}`));

const negotiated = PeerConnector.pair(tx, rx);
await sender.play();
await negotiated;

const frames = (name) => rx.pipeline.getElement(name)?.get('stats')?.rendered ?? 0;
const timer = setInterval(() => console.log(`decoded: ${frames('video')} video frames, ${frames('audio')} audio buffers`), 1000);
setTimeout(() => {
  clearInterval(timer);
  const ok = frames('video') > 0 && frames('audio') > 0;
  console.log(ok ? 'frames arrived: video and audio were decoded' : 'no frames arrived');
  sender.close();
  rx.close();
  process.exitCode = ok ? 0 : 1;
}, seconds * 1000);
