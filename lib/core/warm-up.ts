import { native } from './native.js';

let warming: Promise<void> | undefined;

/**
 * Prepares what every process's first WebRTC connection needs, in the
 * background: the GStreamer plugins and the DTLS certificate (one RSA key). The
 * first WebRtcBin starts it; await it before the first connection to make that
 * connection as fast as later ones. Idempotent.
 */
export function warmUp(): Promise<void> {
  warming ??= native.warmUp();
  return warming;
}
