// Serves a fan-out (MediaFanOut, RtspBridge) to every viewer on a signalling
// server: one PeerSession per viewer peer, its WebRtcBin from the fan-out.
import type { AddViewerOptions } from './fan-out.js';
import { SafeEmitter, type ListenerErrorEvent } from '../core/safe-emitter.js';
import type { SignallingClient } from '../signalling/client.js';
import { PeerSession } from '../signalling/peer-session.js';
import type { PeerInfo } from '../signalling/protocol.js';
import type { PeerConnectionState } from '../core/types.js';
import type { WebRtcBin } from '../core/webrtcbin.js';

/** What hands out viewers: a MediaFanOut or an RtspBridge. */
export interface ViewerSource {
  addViewer(options?: AddViewerOptions): WebRtcBin;
  removeViewer(viewer: WebRtcBin): Promise<void>;
}

/** Options of ViewerSessions. */
export interface ViewerSessionsOptions {
  /** Serve the peers that announce this role. Default `'viewer'` (what the demo page announces). */
  viewerRole?: string;
}

/** One viewer being served, for status pages and logs. */
export interface ViewerStatus {
  peerId: string;
  name: string;
  connectionState: PeerConnectionState;
}

/** Events of ViewerSessions. */
export interface ViewerSessionsEvents extends ListenerErrorEvent {
  /** A viewer peer joined and is being sent the media. */
  viewerjoined: [peer: PeerInfo, viewer: WebRtcBin];
  /** A viewer's session ended (it left, or its connection failed); its WebRtcBin was removed. */
  viewerleft: [peerId: string, reason: string];
  /** Starting or negotiating a viewer's session failed; that viewer is dropped. */
  error: [error: Error, peerId: string];
}

interface Served {
  peer: PeerInfo;
  viewer: WebRtcBin;
  session: PeerSession | undefined;
}

/**
 * Streams a fan-out to every viewer peer on a signalling server: when a peer
 * with the viewer role is there or joins, it gets a viewer from the source and
 * a PeerSession that offers it; when its session ends, the viewer is removed.
 *
 * ```ts
 * const client = new SignallingClient();
 * await client.connect(url, { role: 'gstreamer' });
 * const sessions = new ViewerSessions(fanOut, client);
 * await sessions.start();
 * ```
 */
export class ViewerSessions extends SafeEmitter<ViewerSessionsEvents> {
  private readonly served = new Map<string, Served>();
  private readonly viewerRole: string;
  private isClosed = false;
  private readonly onPeerJoined = (peer: PeerInfo): void => this.welcome(peer);

  constructor(
    readonly source: ViewerSource,
    readonly client: SignallingClient,
    options: ViewerSessionsOptions = {},
  ) {
    super();
    this.viewerRole = options.viewerRole ?? 'viewer';
  }

  /** Serves the viewers already there and every one that joins. The client must be connected. */
  async start(): Promise<void> {
    this.client.on('peerjoined', this.onPeerJoined);
    for (const peer of await this.client.listPeers()) this.welcome(peer);
  }

  /** The viewers being served. */
  status(): ViewerStatus[] {
    return [...this.served.values()].map(({ peer, viewer }) => ({ peerId: peer.peerId, name: peer.name ?? '', connectionState: viewer.connectionState }));
  }

  /** Ends every session and removes every viewer. Idempotent. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.client.off('peerjoined', this.onPeerJoined);
    const removals = [...this.served.values()].map((served) => {
      served.session?.close();
      return this.source.removeViewer(served.viewer);
    });
    this.served.clear();
    await Promise.all(removals);
  }

  private welcome(peer: PeerInfo): void {
    if (this.isClosed || peer.role !== this.viewerRole || this.served.has(peer.peerId)) return;
    let viewer: WebRtcBin;
    try {
      viewer = this.source.addViewer();
    } catch (error) {
      this.dispatchError('error', error as Error, peer.peerId);
      return;
    }
    const served: Served = { peer, viewer, session: undefined };
    this.served.set(peer.peerId, served);
    this.dispatch('viewerjoined', peer, viewer);
    PeerSession.start(viewer, this.client, peer.peerId, { role: 'offerer' }).then(
      (session) => {
        if (this.served.get(peer.peerId) !== served) {
          session.close();
          return;
        }
        served.session = session;
        session.on('error', (error) => this.dispatchError('error', error, peer.peerId));
        session.once('ended', (reason) => this.drop(served, reason));
      },
      (error: Error) => {
        this.dispatchError('error', error, peer.peerId);
        this.drop(served, 'failed to start');
      },
    );
  }

  private drop(served: Served, reason: string): void {
    if (this.served.get(served.peer.peerId) !== served) return;
    this.served.delete(served.peer.peerId);
    void this.source.removeViewer(served.viewer).then(() => this.dispatch('viewerleft', served.peer.peerId, reason));
  }
}
