// Compatibility with the text protocol of GStreamer's gst-examples signalling
// server (webrtc/signalling/Protocol.md), so its sendrecv and multiparty demos can
// use this server. Transport-agnostic: the server hands us text and a link to reply on.

/** Longest accepted uid or room id. */
export const GST_EXAMPLES_MAX_ID_LENGTH = 128;

/** Close code used by gst-examples for a bad HELLO. */
const PROTOCOL_ERROR_CLOSE = 1002;

export interface GstExamplesLink {
  send(text: string): void;
  close(code: number, reason: string): void;
}

export interface GstExamplesSession {
  sessionId: string;
  initiator: string;
  responder: string;
}

export interface GstExamplesHooks {
  /** Whether a uid is free in the server-wide id namespace (shared with JSON peers). */
  isIdAvailable(uid: string): boolean;
  newSessionId(): string;
  sessionStarted(session: GstExamplesSession): void;
  sessionEnded(session: GstExamplesSession, leftPeer: string): void;
}

type PeerStatus =
  | { kind: 'idle' }
  | { kind: 'session'; session: GstExamplesSession; otherId: string }
  | { kind: 'room'; roomId: string };

interface GstPeer {
  link: GstExamplesLink;
  status: PeerStatus;
}

/** True when a connection's first message selects the gst-examples protocol. */
export function isGstExamplesHello(text: string): boolean {
  return /^HELLO(\s|$)/.test(text);
}

/** Mimics the quoting of the reference server's error texts, e.g. ERROR peer 'x' not found. */
function quoted(value: string): string {
  return `'${value}'`;
}

function isValidId(value: string): boolean {
  return value.length > 0 && value.length <= GST_EXAMPLES_MAX_ID_LENGTH && !/\s/.test(value);
}

export class GstExamplesRouter {
  private readonly peers = new Map<string, GstPeer>();
  private readonly rooms = new Map<string, Set<string>>();

  constructor(private readonly hooks: GstExamplesHooks) {}

  get peerIds(): string[] {
    return [...this.peers.keys()];
  }

  /**
   * Handles `HELLO <uid>`. Returns the registered uid, or undefined after
   * replying with ERROR and closing the link.
   */
  register(link: GstExamplesLink, helloText: string): string | undefined {
    const uid = helloText.replace(/^HELLO/, '').trim();
    if (!isValidId(uid) || !this.hooks.isIdAvailable(uid) || this.peers.has(uid)) {
      link.send(`ERROR invalid peer uid ${quoted(uid)}`);
      link.close(PROTOCOL_ERROR_CLOSE, 'invalid peer uid');
      return undefined;
    }
    this.peers.set(uid, { link, status: { kind: 'idle' } });
    link.send('HELLO');
    return uid;
  }

  handle(uid: string, text: string): void {
    const peer = this.peers.get(uid);
    if (!peer) return;
    switch (peer.status.kind) {
      case 'session':
        // In a session everything is forwarded verbatim, including OFFER_REQUEST.
        this.peers.get(peer.status.otherId)?.link.send(text);
        return;
      case 'room':
        this.handleInRoom(uid, peer, peer.status.roomId, text);
        return;
      case 'idle':
        this.handleIdle(uid, peer, text);
        return;
    }
  }

  /** Forgets a peer whose connection closed: ends its session or leaves its room. */
  remove(uid: string): void {
    const peer = this.peers.get(uid);
    if (!peer) return;
    this.peers.delete(uid);
    const status = peer.status;
    if (status.kind === 'session') {
      const other = this.peers.get(status.otherId);
      if (other) {
        other.status = { kind: 'idle' };
        // As in gst-examples, the call ends by closing the other peer's connection.
        other.link.close(1000, 'session peer left');
      }
      this.hooks.sessionEnded(status.session, uid);
    } else if (status.kind === 'room') {
      const members = this.rooms.get(status.roomId);
      if (!members) return;
      members.delete(uid);
      if (members.size === 0) this.rooms.delete(status.roomId);
      for (const memberId of members) this.peers.get(memberId)?.link.send(`ROOM_PEER_LEFT ${uid}`);
    }
  }

  private handleIdle(uid: string, peer: GstPeer, text: string): void {
    const [command = '', ...args] = text.trim().split(/\s+/);
    if (command === 'SESSION') {
      this.startSession(uid, peer, args);
    } else if (command === 'ROOM') {
      this.joinRoom(uid, peer, args);
    } else {
      peer.link.send(`ERROR unknown command ${quoted(command.slice(0, 64))}`);
    }
  }

  private startSession(uid: string, peer: GstPeer, args: string[]): void {
    const calleeId = args.join(' ');
    const callee = this.peers.get(calleeId);
    if (args.length !== 1 || !callee) {
      peer.link.send(`ERROR peer ${quoted(calleeId.slice(0, GST_EXAMPLES_MAX_ID_LENGTH))} not found`);
      return;
    }
    if (calleeId === uid) {
      peer.link.send('ERROR cannot start a session with yourself');
      return;
    }
    if (callee.status.kind !== 'idle') {
      peer.link.send(`ERROR peer ${quoted(calleeId)} busy`);
      return;
    }
    const session: GstExamplesSession = { sessionId: this.hooks.newSessionId(), initiator: uid, responder: calleeId };
    peer.status = { kind: 'session', session, otherId: calleeId };
    callee.status = { kind: 'session', session, otherId: uid };
    peer.link.send('SESSION_OK');
    this.hooks.sessionStarted(session);
  }

  private joinRoom(uid: string, peer: GstPeer, args: string[]): void {
    const roomId = args.join(' ');
    if (args.length !== 1 || roomId === 'session' || !isValidId(roomId)) {
      peer.link.send(`ERROR invalid room id ${quoted(roomId.slice(0, GST_EXAMPLES_MAX_ID_LENGTH))}`);
      return;
    }
    let members = this.rooms.get(roomId);
    if (!members) {
      members = new Set();
      this.rooms.set(roomId, members);
    }
    // The reference server sends "ROOM_OK " with a trailing space for an empty room.
    peer.link.send(`ROOM_OK ${[...members].join(' ')}`);
    for (const memberId of members) this.peers.get(memberId)?.link.send(`ROOM_PEER_JOINED ${uid}`);
    members.add(uid);
    peer.status = { kind: 'room', roomId };
  }

  private handleInRoom(uid: string, peer: GstPeer, roomId: string, text: string): void {
    const trimmed = text.trim();
    if (trimmed === 'ROOM_PEER_LIST') {
      const others = [...(this.rooms.get(roomId) ?? [])].filter((id) => id !== uid);
      peer.link.send(`ROOM_PEER_LIST ${others.join(' ')}`);
      return;
    }
    const roomMessage = /^\s*ROOM_PEER_MSG\s+(\S+)\s+(\S[\s\S]*)$/.exec(text);
    if (roomMessage) {
      const [, targetId = '', body = ''] = roomMessage;
      const target = this.peers.get(targetId);
      if (!target) {
        peer.link.send(`ERROR peer ${quoted(targetId.slice(0, GST_EXAMPLES_MAX_ID_LENGTH))} not found`);
      } else if (target.status.kind !== 'room' || target.status.roomId !== roomId) {
        peer.link.send(`ERROR peer ${quoted(targetId)} is not in the room`);
      } else {
        target.link.send(`ROOM_PEER_MSG ${uid} ${body}`);
      }
      return;
    }
    if (/^ROOM_PEER_MSG(\s|$)/.test(trimmed)) {
      peer.link.send('ERROR invalid ROOM_PEER_MSG, expected ROOM_PEER_MSG <peer_id> <msg>');
      return;
    }
    peer.link.send('ERROR invalid msg, already in room');
  }
}
