import { prepareDtlsCertificate } from './dtls-certificate.js';
import { native } from './native.js';

let warming: Promise<void> | undefined;

/**
 * Prepares what every process's first WebRTC connection needs, in the
 * background: the GStreamer plugins, GStreamer's DTLS certificate (one RSA key,
 * which its DTLS elements make whether used or not) and the ECDSA certificate
 * connections present (lib/core/dtls-certificate.ts). The
 * first WebRtcBin starts it; await it before the first connection to make that
 * connection as fast as later ones. Idempotent.
 */
export function warmUp(): Promise<void> {
  warming ??= Promise.all([native.warmUp(), prepareDtlsCertificate()]).then(() => undefined);
  return warming;
}
