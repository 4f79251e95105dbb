// The DTLS certificate every webrtcbin of this process presents: ECDSA P-256,
// self-signed, made once (and again after 30 days) with node:crypto.
//
// GStreamer 1.22 makes an RSA-2048 certificate of its own. An RSA signature
// costs each side of a handshake about 1 ms of CPU (ECDSA: about 30 µs), on the
// path of every connection; browsers and libwebrtc use ECDSA P-256 themselves.
// Peers check the certificate against the fingerprint in the SDP, never
// against an authority, so a self-signed one is what WebRTC uses.
//
// webrtcbin 1.22 computes the SDP's `a=fingerprint` from dtlssrtpdec's `pem`
// by hashing every base64 line in it, and a PEM given to dtlssrtpdec holds the
// private key too: the hash is wrong. correctFingerprints() puts the
// certificate's own fingerprint in its place in the descriptions webrtcbin
// creates (webrtcbin itself never checks a fingerprint; browsers do).
import { createHash, generateKeyPair, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

import { native, type NativeObject } from './native.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** A certificate older than this is replaced for new connections (it stays valid a year). */
const RENEW_AFTER_MS = 30 * DAY_MS;
const VALID_FOR_MS = 365 * DAY_MS;

interface Certificate {
  pem: string;
  madeAt: number;
  /** `sha-256 AA:BB:...` of the certificate, and what webrtcbin 1.22 puts in the SDP instead. */
  fingerprint: string;
  webrtcbinFingerprint: string;
}

/** Every certificate made in this process (one per 30 days): connections made with an older one still use it. */
const made: Certificate[] = [];

/** The DTLS transports `webrtcbin` makes from now on present the process's certificate (native/dtls_certificate.cc). */
export function presentDtlsCertificate(webrtcbin: NativeObject): void {
  native.dtlsCertificate(webrtcbin, dtlsCertificatePem());
}

/** The process's certificate and private key, one PEM string (what dtlssrtpdec's `pem` takes). */
export function dtlsCertificatePem(now = Date.now()): string {
  const latest = made[made.length - 1];
  if (latest !== undefined && now - latest.madeAt <= RENEW_AFTER_MS) return latest.pem;
  return keep(makeCertificate(now, generateKeyPairSync('ec', { namedCurve: 'prime256v1' })), now);
}

/** Makes the certificate ahead of the first connection, its key on libuv's thread pool (prepareProcess() calls it). */
export function prepareDtlsCertificate(): Promise<void> {
  if (made.length > 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    generateKeyPair('ec', { namedCurve: 'prime256v1' }, (error, publicKey, privateKey) => {
      if (error !== null) return reject(error);
      const now = Date.now();
      if (made.length === 0) keep(makeCertificate(now, { publicKey, privateKey }), now);
      resolve();
    });
  });
}

function keep({ pem, der }: { pem: string; der: Buffer }, now: number): string {
  made.push({ pem, madeAt: now, fingerprint: fingerprintOf(der), webrtcbinFingerprint: fingerprintOf(base64Lines(pem)) });
  return pem;
}

/** `sdp` with each fingerprint webrtcbin computed from one of our PEM strings replaced by the certificate's own. */
export function correctFingerprints(sdp: string): string {
  let corrected = sdp;
  for (const certificate of made) corrected = corrected.split(`a=fingerprint:${certificate.webrtcbinFingerprint}`).join(`a=fingerprint:${certificate.fingerprint}`);
  return corrected;
}

function fingerprintOf(der: Buffer): string {
  const hex = createHash('sha256').update(der).digest('hex').toUpperCase();
  return `sha-256 ${hex.match(/../g)!.join(':')}`;
}

/**
 * What webrtcbin hashes: every line of the PEM string that is not a `-----`
 * marker, decoded as one base64 stream the way GLib's g_base64_decode_step
 * does (characters outside the alphabet skipped, `=` counted as a zero digit
 * whose byte is left out).
 */
function base64Lines(pem: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const bytes: number[] = [];
  let value = 0;
  let digits = 0;
  const last = ['', ''];
  for (const line of pem.split('\n')) {
    if (line === '' || line.startsWith('-----')) continue;
    for (const char of line) {
      const rank = char === '=' ? 0 : alphabet.indexOf(char);
      if (rank < 0) continue;
      last[1] = last[0];
      last[0] = char;
      value = ((value << 6) | rank) & 0xffffff;
      if (++digits === 4) {
        bytes.push(value >> 16);
        if (last[1] !== '=') bytes.push((value >> 8) & 0xff);
        if (last[0] !== '=') bytes.push(value & 0xff);
        digits = 0;
      }
    }
  }
  return Buffer.from(bytes);
}

/** A self-signed certificate for the key pair, valid from a day before `now` for a year (exported for its test). */
export function makeCertificate(now: number, { publicKey, privateKey }: { publicKey: KeyObject; privateKey: KeyObject }): { pem: string; der: Buffer } {
  const ecdsaWithSha256 = sequence(objectId([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]));
  const name = sequence(set(sequence(objectId([0x55, 0x04, 0x03]), tlv(0x0c, Buffer.from('gst-webrtc-node')))));
  const serial = randomBytes(8);
  // A positive INTEGER in minimal DER: a leading 0x00 before a byte below 0x80
  // is "illegal padding" to OpenSSL, which then refuses the whole certificate.
  serial[0] = (serial[0] & 0x3f) | 0x40;
  const tbs = sequence(
    tlv(0xa0, integer(Buffer.from([2]))), // version 3
    integer(serial),
    ecdsaWithSha256,
    name,
    sequence(utcTime(new Date(now - DAY_MS)), utcTime(new Date(now + VALID_FOR_MS))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, privateKey); // DER-encoded ECDSA signature
  const certificate = sequence(tbs, ecdsaWithSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  return { pem: `${pemBlock('CERTIFICATE', certificate)}${pkcs8(privateKey)}`, der: certificate };
}

function pkcs8(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function pemBlock(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

// DER: tag, length, contents.
function tlv(tag: number, contents: Buffer): Buffer {
  const length = contents.length;
  let header: number[];
  if (length < 0x80) header = [tag, length];
  else if (length < 0x100) header = [tag, 0x81, length];
  else header = [tag, 0x82, length >> 8, length & 0xff];
  return Buffer.concat([Buffer.from(header), contents]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const objectId = (encoded: number[]) => tlv(0x06, Buffer.from(encoded));

function integer(value: Buffer): Buffer {
  return tlv(0x02, value[0] & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
}

/** UTCTime, YYMMDDHHMMSSZ (years 1950 to 2049). */
function utcTime(date: Date): Buffer {
  const two = (n: number) => String(n).padStart(2, '0');
  const text =
    two(date.getUTCFullYear() % 100) + two(date.getUTCMonth() + 1) + two(date.getUTCDate()) + two(date.getUTCHours()) + two(date.getUTCMinutes()) + two(date.getUTCSeconds()) + 'Z';
  return tlv(0x17, Buffer.from(text, 'ascii'));
}
