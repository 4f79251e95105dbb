// warmUp(): what a process's first connection would otherwise do for the first
// time, done ahead. Preparing the plugins and certificates (prepareProcess)
// left the first connection about 1.7 to 1.9 times as long as later ones: the
// rest is first use of everything else (GStreamer's RTP, DTLS and SCTP objects,
// OpenSSL's handshake, usrsctp, and this library's own code, which V8 compiles
// on first call). So warmUp() also makes one connection between two WebRtcBins
// of its own, over this machine's own addresses, and closes it.
import { prepareProcess } from './warm-up.js';
import { WebRtcBin } from './webrtcbin.js';

/** How long the rehearsal connection may take (a machine with no usable address never connects). */
const REHEARSAL_TIMEOUT_MS = 3000;

let warming: Promise<void> | undefined;

/**
 * Prepares this process for its first WebRTC connection: loads the plugins,
 * makes the DTLS certificates (on worker threads), then makes and closes one
 * connection of its own (a data channel and an audio transceiver, no media),
 * so that the first real connection is about as fast as later ones. The first
 * WebRtcBin starts the first part by itself. Resolves once done, also when the
 * rehearsal could not connect. Idempotent.
 */
export function warmUp(): Promise<void> {
  warming ??= prepareProcess().then(rehearseConnection);
  return warming;
}

async function rehearseConnection(): Promise<void> {
  const offerer = new WebRtcBin({ name: 'warm-up-offerer' });
  const answerer = new WebRtcBin({ name: 'warm-up-answerer' });
  let timer: NodeJS.Timeout | undefined;
  try {
    offerer.addTransceiver('audio', { direction: 'recvonly' });
    const channel = offerer.createDataChannel('warm-up');
    const opened = Promise.all([
      new Promise<void>((resolve) => channel.once('open', () => resolve())),
      new Promise<void>((resolve) => answerer.once('datachannel', () => resolve())),
    ]);
    offerer.on('icecandidate', (candidate) => void answerer.addIceCandidate(candidate).catch(() => undefined));
    answerer.on('icecandidate', (candidate) => void offerer.addIceCandidate(candidate).catch(() => undefined));
    await offerer.setLocalDescription();
    await answerer.setRemoteDescription(offerer.localDescription!);
    await answerer.setLocalDescription();
    await offerer.setRemoteDescription(answerer.localDescription!);
    await Promise.race([opened, new Promise<void>((resolve) => (timer = setTimeout(resolve, REHEARSAL_TIMEOUT_MS)))]);
  } catch {
    // The rehearsal is an optimisation: what it did not reach, the first real connection does.
  } finally {
    clearTimeout(timer);
    offerer.close();
    answerer.close();
  }
}
