// A viewer that joins a signalling server as the demo page does (role "viewer")
// and answers the session GStreamer starts with a decoding WebRtcBin: the
// examples' streams, received without a browser.
import { PeerSession, SignallingClient } from '../../lib/index.js';
import { createReceiver, type Receiver } from './receiver.js';

export interface SignalledViewer {
  client: SignallingClient;
  receiver: Receiver;
  /** Resolves once the session's offer has been answered. */
  negotiated: Promise<void>;
  close(): Promise<void>;
}

/** Joins `url` (ws://host:port/signalling) as a viewer; GStreamer's side is expected to start the session. */
export async function joinAsViewer(url: string): Promise<SignalledViewer> {
  const client = new SignallingClient();
  const receiver = createReceiver();
  const negotiated = new Promise<void>((resolve, reject) => {
    client.once('session', (session) => {
      const peer = new PeerSession(receiver.webrtcbin, client, session);
      peer.once('negotiated', () => resolve());
      peer.once('error', reject);
    });
  });
  negotiated.catch(() => undefined); // observed by whoever awaits it
  try {
    await client.connect(url, { role: 'viewer', timeoutMs: 10_000 });
  } catch (error) {
    receiver.close();
    throw error;
  }
  return {
    client,
    receiver,
    negotiated,
    async close() {
      receiver.close();
      await client.close();
    },
  };
}
