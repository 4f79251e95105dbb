// werift (a pure TypeScript WebRTC stack) as the independent peer of interop tests.
import { createSocket } from 'node:dgram';
import { once } from 'node:events';

import { RTCPeerConnection, type PeerConfig, type RTCIceCandidate } from 'werift';

import type { IceCandidate, SessionPayload } from '../../lib/index.js';

const STUN_MAGIC_COOKIE = 0x2112a442;
const STUN_BINDING_REQUEST = 0x0001;
const STUN_BINDING_SUCCESS = 0x0101;
const STUN_XOR_MAPPED_ADDRESS = 0x0020;

/** A STUN server on 127.0.0.1 that answers IPv4 binding requests with the sender's address. */
export interface LoopbackStunServer {
  /** `stun:127.0.0.1:<port>`. */
  url: string;
  close(): void;
}

/**
 * Starts a minimal STUN server (RFC 5389 binding only) on 127.0.0.1.
 *
 * werift queries a STUN server while it gathers, and with none configured it
 * falls back to a public Google STUN server; its setLocalDescription() then waits until
 * that query times out (5 s). Pointing it here keeps everything on this machine
 * and lets gathering finish at once.
 */
export async function startLoopbackStunServer(): Promise<LoopbackStunServer> {
  const socket = createSocket('udp4');
  socket.on('message', (request, from) => {
    if (request.length < 20 || request.readUInt16BE(0) !== STUN_BINDING_REQUEST || request.readUInt32BE(4) !== STUN_MAGIC_COOKIE) return;
    const response = Buffer.alloc(32);
    response.writeUInt16BE(STUN_BINDING_SUCCESS, 0);
    response.writeUInt16BE(12, 2); // one attribute: 4 bytes of header, 8 of IPv4 address
    request.copy(response, 4, 4, 20); // magic cookie and transaction id
    response.writeUInt16BE(STUN_XOR_MAPPED_ADDRESS, 20);
    response.writeUInt16BE(8, 22);
    response.writeUInt16BE(0x0001, 24); // IPv4
    response.writeUInt16BE(from.port ^ (STUN_MAGIC_COOKIE >>> 16), 26);
    const address = from.address.split('.').reduce((value, octet) => (value << 8) | Number(octet), 0);
    response.writeUInt32BE((address ^ STUN_MAGIC_COOKIE) >>> 0, 28);
    socket.send(response, from.port, from.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { url: `stun:127.0.0.1:${socket.address().port}`, close: () => socket.close() };
}

/** A werift peer for loopback tests, using `stunUrl` (see startLoopbackStunServer). */
export function createWeriftPeer(stunUrl: string, config: Partial<PeerConfig> = {}): RTCPeerConnection {
  return new RTCPeerConnection({ iceServers: [{ urls: stunUrl }], ...config });
}

/**
 * werift's side of in-process signalling, the counterpart of a PeerConnector:
 * it sends werift's descriptions as created, without candidates, and trickles
 * its candidates (the end of candidates as `null`) through `send`, and applies the messages given to
 * handle() in order, holding candidates until the remote description is set.
 */
export class WeriftSignaller {
  private queue: Promise<void> = Promise.resolve();
  private pendingCandidates: IceCandidate[] = [];
  private closed = false;
  /** Failures of any step, in order; a test asserts this stays empty. */
  readonly errors: Error[] = [];
  private readonly unsubscribe: () => void;

  constructor(
    readonly peer: RTCPeerConnection,
    private readonly send: (message: SessionPayload) => void,
  ) {
    this.unsubscribe = peer.onIceCandidate.subscribe((candidate) => this.post({ type: 'ice', candidate: toCandidateInit(candidate) })).unSubscribe;
  }

  /** Creates an offer, sets it locally and sends it. */
  offer(): Promise<void> {
    return this.enqueue(async () => {
      const offer = await this.peer.createOffer();
      await this.peer.setLocalDescription(offer);
      this.post({ type: 'sdp', sdp: { type: 'offer', sdp: offer.sdp } });
    });
  }

  /** Applies a message from the WebRtcBin's PeerConnector. */
  handle(message: SessionPayload): Promise<void> {
    return this.enqueue(async () => {
      if (message.type === 'sdp') {
        await this.peer.setRemoteDescription(message.sdp);
        for (const candidate of this.pendingCandidates.splice(0)) await this.peer.addIceCandidate(toWeriftCandidate(candidate));
        if (message.sdp.type === 'offer') {
          const answer = await this.peer.createAnswer();
          await this.peer.setLocalDescription(answer);
          this.post({ type: 'sdp', sdp: { type: 'answer', sdp: answer.sdp } });
        }
      } else if (message.candidate === null) {
        // werift has no use for the end of candidates, but it must accept it.
        if (this.peer.remoteDescription !== undefined) await this.peer.addIceCandidate({ candidate: '', sdpMid: '0', sdpMLineIndex: 0 });
      } else if (this.peer.remoteDescription === undefined) {
        this.pendingCandidates.push(message.candidate);
      } else {
        await this.peer.addIceCandidate(toWeriftCandidate(message.candidate));
      }
    });
  }

  /** Stops sending and handling. Does not close the peer. */
  close(): void {
    this.closed = true;
    this.unsubscribe();
  }

  private post(message: SessionPayload): void {
    if (!this.closed) this.send(message);
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(async () => {
      if (this.closed) return;
      try {
        await step();
      } catch (error) {
        this.errors.push(error as Error);
      }
    });
    return this.queue;
  }
}

function toCandidateInit(candidate: RTCIceCandidate | undefined): IceCandidate | null {
  if (candidate === undefined) return null;
  return { candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? null, sdpMLineIndex: candidate.sdpMLineIndex ?? null };
}

function toWeriftCandidate(candidate: IceCandidate): { candidate: string; sdpMid?: string; sdpMLineIndex?: number } {
  return { candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? undefined, sdpMLineIndex: candidate.sdpMLineIndex ?? undefined };
}
