// A receiver in a child process (run inside a network namespace by the
// congestion tests): answers the offer it reads on stdin, decodes the video it
// gets, and reports decoded frames. Signalling is JSON lines: in { offer } and
// { candidate }; out { answer }, { candidate } and { frames, keyframes } every 100 ms.
import { createInterface } from 'node:readline';

import { WebRtcBin } from '../../dist/esm/index.mjs';

const DECODERS = { VP8: 'rtpvp8depay ! vp8dec', H264: 'rtph264depay ! avdec_h264 output-corrupt=false' };
const receiver = new WebRtcBin();
const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
receiver.on('icecandidate', (candidate) => candidate !== null && send({ candidate }));
receiver.on('track', (track) => {
  const decoder = DECODERS[track.encodingName];
  if (decoder === undefined) return track.discard();
  track.link(`${decoder} ! fakesink name=video-out sync=false async=false`);
});
const frames = () => {
  const sink = receiver.closed ? null : receiver.pipeline.getElement('video-out');
  return sink === null ? 0 : (sink.get('stats')?.rendered ?? 0);
};
const timer = setInterval(() => send({ frames: frames(), connectionState: receiver.connectionState }), 100);
for await (const line of createInterface({ input: process.stdin })) {
  const message = JSON.parse(line);
  if (message.offer !== undefined) {
    await receiver.setRemoteDescription(message.offer);
    await receiver.setLocalDescription();
    send({ answer: receiver.localDescription });
  } else if (message.candidate !== undefined) {
    await receiver.addIceCandidate(message.candidate);
  }
}
clearInterval(timer);
receiver.close();
