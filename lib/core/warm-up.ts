import { prepareDtlsCertificate } from './dtls-certificate.js';
import { native } from './native.js';

let preparing: Promise<void> | undefined;

/**
 * Prepares, in the background, what every process's first WebRTC connection
 * needs: the GStreamer plugins, GStreamer's DTLS certificate (one RSA key,
 * which its DTLS elements make whether used or not) and the ECDSA certificate
 * connections present (lib/core/dtls-certificate.ts). The first WebRtcBin
 * starts it. Idempotent. (The public `warmUp()` also rehearses a connection:
 * lib/core/warm-up-connection.ts.)
 */
export function prepareProcess(): Promise<void> {
  preparing ??= Promise.all([native.warmUp(), prepareDtlsCertificate()]).then(() => undefined);
  return preparing;
}
