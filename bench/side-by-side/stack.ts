// What the side-by-side figure needs from a WebRTC stack: connect two peers of it
// in this process over loopback, and move bytes over a data channel between them.
// One implementation per stack lives beside this file.

/** Which media the connection carries. */
export type ConnectionKind = 'data' | 'video';

/** The two ends of one reliable, ordered data channel (a sends, b receives). */
export interface ChannelEnds {
  send(message: Buffer): void;
  bufferedAmount(): number;
  /** Sets the sender's buffered-amount-low threshold, in bytes. */
  setLowThreshold(bytes: number): void;
  /** Resolves at the sender's next buffered-amount-low event. */
  drained(): Promise<void>;
  /** Calls `onBytes` with the size of each message arriving at b. */
  receive(onBytes: (bytes: number) => void): void;
}

/** Two connected peers. */
export interface ConnectedPair {
  /** Milliseconds from creating the two peers to both reporting their connection `connected`. */
  connectedMs: number;
  /** Milliseconds from creating the two peers to both reporting ICE `connected` (or `completed`): before DTLS. */
  iceConnectedMs: number;
  /** The channel, open on both sides; only for a `data` connection. */
  channel?: ChannelEnds;
  close(): void | Promise<void>;
}

/** A WebRTC stack under comparison. */
export interface Stack {
  /** Key in results and on the command line. */
  id: StackId;
  /** Name and version, e.g. `node-datachannel 0.33.4 (libdatachannel 0.23.2)`. */
  label(): string;
  /** Whether connect('video') is supported. */
  hasVideo: boolean;
  /**
   * Creates two peers, negotiates over in-process signalling with trickle ICE (no
   * STUN or TURN, host candidates on 127.0.0.1 and the machine's other addresses),
   * and resolves once both are connected and, for `data`, the channel is open at both ends.
   */
  connect(kind: ConnectionKind): Promise<ConnectedPair>;
}

export type StackId = 'gst-webrtc-node' | 'node-datachannel' | 'wrtc' | 'werift';

/** Fails a step that takes too long instead of hanging the figure. */
export function withTimeout<T>(promise: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))),
  ]);
}

/** Whether an ICE connection state means a working pair was found. */
export function iceUp(state: string): boolean {
  return state === 'connected' || state === 'completed';
}

/** A promise with its resolve function, for events. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}
