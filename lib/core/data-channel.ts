import { ERROR_DOMAIN, ErrorCode } from './error-codes.js';
import { GstError, InvalidStateError, OperationError } from './errors.js';
import { native, type NativeObject } from './native.js';
import type { Pipeline } from './pipeline.js';
import { pipelineHandle, type Disposable } from './pipeline-handle.js';
import { SafeEmitter, type ListenerErrorEvent } from './safe-emitter.js';

/** RTCDataChannelState. */
export type DataChannelState = 'connecting' | 'open' | 'closing' | 'closed';

/** RTCDataChannelInit: the options of WebRtcBin.createDataChannel(). */
export interface DataChannelInit {
  /** Deliver messages in the order they were sent. Default true. */
  ordered?: boolean;
  /** Stop retransmitting a message after this many milliseconds (partial reliability). */
  maxPacketLifeTime?: number;
  /** Stop retransmitting a message after this many retransmissions (partial reliability). */
  maxRetransmits?: number;
  /** Subprotocol name, told to the peer. Default ''. */
  protocol?: string;
  /** Both sides create the channel themselves with the same `id`; no in-band announcement. Default false. */
  negotiated?: boolean;
  /** SCTP stream id, required (and only used) when `negotiated` is true. */
  id?: number;
}

export interface DataChannelEvents extends ListenerErrorEvent {
  /** The channel can send and receive. */
  open: [];
  /** A string for text messages, a Buffer for binary ones. */
  message: [data: string | Buffer];
  /** bufferedAmount fell to bufferedAmountLowThreshold or below. */
  bufferedamountlow: [];
  /** The channel is shutting down: queued messages are still sent, send() throws. */
  closing: [];
  /**
   * The channel failed (it closes afterwards): a GstError from webrtcbin, or an
   * OperationError when it did not open within `DataChannel.openTimeout` of
   * its transport connecting (its SCTP association failed, as browsers report
   * with an RTCError of errorDetail 'sctp-failure').
   */
  error: [error: GstError | OperationError];
  /** The channel is closed; no more events follow. */
  close: [];
}

/** @internal Which side created the channel: it decides the in-band control bytes its SCTP stream carries. */
export type DataChannelOrigin = 'local' | 'remote';

/**
 * GStreamer 1.22's receiving side hands usrsctp's partial deliveries on as whole
 * messages (sctpdec ignores MSG_EOR), and usrsctp starts partial delivery at
 * about 64 KiB: a larger message arrives cut into pieces. webrtcbin's SDP carries no
 * `a=max-message-size`, so peers assume this very limit (RFC 8841), and webrtcbin
 * also caps its own sending at it. So 64 KiB is the most a message can carry.
 */
const GSTREAMER_MAX_MESSAGE_SIZE = 65536;

/** `GST_WEBRTC_ERROR_INVALID_STATE` and `GST_WEBRTC_ERROR_TYPE_ERROR` (gst-webrtc-error-quark). */
const WEBRTC_ERROR_INVALID_STATE = 7;
const WEBRTC_ERROR_TYPE_ERROR = 10;

/**
 * Received messages of one WebRtcBin's channels, in bytes, that may wait for JS
 * before its SCTP input is held (flow control: the peer's sending stalls). See
 * docs/reliability.md for the memory this bounds.
 */
export const RECEIVE_QUEUE_BOUND = 4 * 1024 * 1024;

/** How often a pending close() checks whether the SCTP encoder took every queued byte. */
const DRAIN_POLL_MS = 5;
/** A pending close() stops waiting for the encoder after this long without progress (a safety net: the byte count is exact). */
const DRAIN_STALL_MS = 5000;

/** The properties fixed once the channel exists (read again while it does, kept after). */
interface Snapshot {
  label: string;
  protocol: string;
  ordered: boolean;
  negotiated: boolean;
  maxPacketLifeTime: number | null;
  maxRetransmits: number | null;
  id: number | null;
}

/**
 * An RTCDataChannel on a WebRtcBin (webrtcbin's GstWebRTCDataChannel). Get one
 * from `webrtcbin.createDataChannel()` or the WebRtcBin's `datachannel` event.
 *
 * ```ts
 * const channel = peer.createDataChannel('chat');
 * channel.on('open', () => channel.send('hello'));
 * channel.on('message', (data) => console.log(data));
 * ```
 *
 * Messages are at most `maxMessageSize` bytes (64 KiB with GStreamer 1.22); to
 * send more, split it and pace the sending with `bufferedAmount` and the
 * `bufferedamountlow` event.
 */
export class DataChannel extends SafeEmitter<DataChannelEvents> {
  /**
   * How long a channel may stay 'connecting' once its WebRtcBin's connection is
   * 'connected', in milliseconds, before it fails: an `error` event with an
   * OperationError, then `close`. Over a working transport a channel opens
   * within a few round trips; one that does not has an SCTP association that
   * will not come up (GStreamer 1.22 then reports nothing). Read when the
   * transport connects. Default 15000 (SCTP retransmits its first INIT after
   * 1 to 3 s).
   */
  static openTimeout = 15_000;

  private state: DataChannelState;
  private snapshot: Snapshot;
  /** Payload and control bytes this channel's SCTP stream must carry before it may be reset. */
  private bytesQueued: number;
  private lastBufferedAmount = 0;
  private lowThreshold = 0;
  private closeRequested = false;
  private openDispatched = false;
  private closingDispatched = false;
  private drainTimer: NodeJS.Timeout | undefined;
  private openTimer: NodeJS.Timeout | undefined;
  private subscription: Disposable;
  /**
   * The webrtcbin's SCTP transport once it has one (it keeps it): read from the
   * webrtcbin once, because every property read of a webrtcbin waits for its
   * lock, which its own thread holds while it works; the transport's own
   * properties take no lock.
   */
  private sctpTransport: NativeObject | null = null;

  /** @internal Made by WebRtcBin. */
  constructor(
    private readonly pipeline: Pipeline,
    /** @internal */ public native: NativeObject,
    private target: number,
    private webrtcbin: NativeObject,
    origin: DataChannelOrigin,
  ) {
    super();
    this.snapshot = readSnapshot(native);
    this.bytesQueued = controlBytes(this.snapshot, origin);
    // A remote channel is announced once it is open; a local one starts connecting.
    this.state = this.read('ready-state') === 'open' ? 'open' : 'connecting';
    this.subscription = pipelineHandle(pipeline).subscribe(target, 'data-channel', (event) => this.onNativeEvent(event.type, event.data));
    if (this.state === 'open') this.limitReceive();
  }

  /**
   * @internal A rollback before the first negotiation replaced the webrtcbin
   * (see WebRtcBin): this local channel, not negotiated yet, now lives in the new one.
   */
  rebind(channel: NativeObject, target: number, webrtcbin: NativeObject): void {
    this.subscription.dispose();
    this.native = channel;
    this.target = target;
    this.webrtcbin = webrtcbin;
    this.sctpTransport = null;
    this.subscription = pipelineHandle(this.pipeline).subscribe(target, 'data-channel', (event) => this.onNativeEvent(event.type, event.data));
  }

  /** The label given to createDataChannel() on either side. */
  get label(): string {
    return this.snapshot.label;
  }

  /** The SCTP stream id, or null until negotiation assigns one. */
  get id(): number | null {
    if (this.snapshot.id === null && this.state !== 'closed') this.refreshId();
    return this.snapshot.id;
  }

  /** The subprotocol, '' when none. */
  get protocol(): string {
    return this.snapshot.protocol;
  }

  /** Whether messages arrive in the order they were sent. */
  get ordered(): boolean {
    return this.snapshot.ordered;
  }

  /** Whether the channel was created on both sides with `negotiated: true`. */
  get negotiated(): boolean {
    return this.snapshot.negotiated;
  }

  /** The retransmission time limit in milliseconds, or null for a reliable channel. */
  get maxPacketLifeTime(): number | null {
    return this.snapshot.maxPacketLifeTime;
  }

  /** The retransmission count limit, or null for a reliable channel. */
  get maxRetransmits(): number | null {
    return this.snapshot.maxRetransmits;
  }

  /** 'connecting', 'open', 'closing' (close() ran or the peer closed) or 'closed'. */
  get readyState(): DataChannelState {
    if (this.state !== 'closed' && this.closingDispatched) return 'closing';
    return this.state;
  }

  /**
   * Bytes that send() queued and webrtcbin has not yet handed to its SCTP
   * association. It grows while the sender outruns the network; keep it bounded
   * with `bufferedamountlow` (see bufferedAmountLowThreshold).
   */
  get bufferedAmount(): number {
    if (this.state !== 'closed') {
      const live = this.read('buffered-amount');
      if (typeof live === 'number') this.lastBufferedAmount = live;
    }
    return this.lastBufferedAmount;
  }

  /** `bufferedamountlow` fires when bufferedAmount falls from above this many bytes to this or fewer. Default 0. */
  get bufferedAmountLowThreshold(): number {
    return this.lowThreshold;
  }

  set bufferedAmountLowThreshold(bytes: number) {
    if (!Number.isInteger(bytes) || bytes < 0) throw new TypeError('bufferedAmountLowThreshold must be a non-negative integer');
    this.lowThreshold = bytes;
    if (this.state !== 'closed') this.write('buffered-amount-low-threshold', bytes);
  }

  /**
   * The largest message send() accepts, in bytes: the smaller of what the peer
   * announced (`a=max-message-size`, 64 KiB when absent) and the 64 KiB a
   * GStreamer 1.22 message can carry.
   */
  get maxMessageSize(): number {
    if (this.state !== 'closed') this.sctpTransport ??= (this.readFrom(this.webrtcbin, 'sctp-transport') as NativeObject | null | undefined) ?? null;
    const transport = this.state === 'closed' ? null : this.sctpTransport;
    const negotiatedLimit = transport ? (this.readFrom(transport, 'max-message-size') as number | undefined) : undefined;
    return typeof negotiatedLimit === 'number' && negotiatedLimit > 0 ? Math.min(negotiatedLimit, GSTREAMER_MAX_MESSAGE_SIZE) : GSTREAMER_MAX_MESSAGE_SIZE;
  }

  /**
   * Queues a message: text for a string, binary for a Buffer, an ArrayBuffer or
   * any ArrayBufferView (the bytes are copied; the caller may reuse them).
   * @throws InvalidStateError unless the channel is open.
   * @throws TypeError for other types, for a message larger than maxMessageSize,
   *   and for what GStreamer 1.22 cannot send: an empty message, text containing U+0000.
   */
  send(data: string | Buffer | ArrayBuffer | ArrayBufferView): void {
    const payload = toPayload(data);
    // Its pipeline went away under it (a race with a teardown): the channel is closed.
    if (this.pipeline.closed) this.markClosed();
    const state = this.readyState;
    if (state !== 'open') throw new InvalidStateError(`data channel "${this.label}" is ${state}, not open`);
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    // webrtcbin 1.22 sends an empty message as a zero-length SCTP message (not the
    // single byte RFC 8831 asks for); sctpenc fails on it and the whole SCTP
    // association, every channel with it, goes down. So refuse it here.
    if (size === 0) throw new TypeError(`data channel "${this.label}": GStreamer 1.22 cannot send an empty message`);
    // webrtcbin 1.22 measures text with strlen(), so it would cut at the first NUL.
    if (typeof payload === 'string' && payload.includes('\0')) {
      throw new TypeError(`data channel "${this.label}": GStreamer 1.22 cuts text at U+0000; send it as binary`);
    }
    const limit = this.maxMessageSize;
    if (size > limit) {
      throw new TypeError(`data channel "${this.label}": a message of ${size} bytes exceeds maxMessageSize (${limit} bytes); split it into smaller messages`);
    }
    try {
      native.dataChannelSend(this.native, payload);
    } catch (error) {
      if (isGone(error)) {
        // webrtcbin freed the channel (the peer closed it; its 'close' is on its way): it is closed now.
        this.markClosed();
        throw new InvalidStateError(`data channel "${this.label}" is closed, not open`);
      }
      throw toSendError(error, this.label, size, limit);
    }
    this.bytesQueued += size;
  }

  /**
   * Closes the channel: messages already queued are still delivered, then the
   * stream is reset and both sides see `close`. Idempotent.
   */
  close(): void {
    if (this.closeRequested || this.state === 'closed') return;
    this.closeRequested = true;
    if (this.pipeline.closed) {
      this.markClosed();
      return;
    }
    this.enterClosing();
    // webrtcbin 1.22 ignores close() before the channel is open: it is closed on 'open' instead.
    if (this.state === 'open') this.closeWhenDrained();
  }

  /**
   * @internal The WebRtcBin's connection is 'connected' (called at that change,
   * and at creation when it already is): from now on the channel has
   * `openTimeout` to open.
   */
  transportConnected(): void {
    if (this.state !== 'connecting' || this.openTimer !== undefined) return;
    const timeout = DataChannel.openTimeout;
    this.openTimer = setTimeout(() => this.failToOpen(timeout), timeout);
    this.openTimer.unref?.();
  }

  /** Still not open `timeout` ms after the transport connected: fails as a browser fails a channel whose SCTP association failed. */
  private failToOpen(timeout: number): void {
    this.openTimer = undefined;
    if (this.state !== 'connecting' || this.pipeline.closed) return;
    this.dispatchError('error', new OperationError(`data channel "${this.label}" did not open within ${timeout} ms of the connection being up: its SCTP association failed`));
    this.closeNative();
    this.markClosed();
  }

  /** @internal The owning WebRtcBin is closing, and the SCTP association with it. */
  finish(): void {
    if (this.state === 'closed') return;
    // Let the pipeline stop even if a send of ours waits in the SCTP encoder (see
    // dataChannelUnblock). Pipeline.close() comes here before it stops the pipeline.
    try {
      native.dataChannelUnblock(this.webrtcbin);
    } catch {
      // The webrtcbin is already gone: nothing can be blocked in it.
    }
    this.markClosed();
  }

  private markClosed(): void {
    if (this.state === 'closed') return;
    this.lastBufferedAmount = this.bufferedAmount; // W3C keeps the value bufferedAmount had at close
    this.refreshId();
    this.state = 'closed';
    clearTimeout(this.drainTimer);
    clearTimeout(this.openTimer);
    this.subscription.dispose();
    // Its messages still queued are dropped now: give their bytes back to the receive bound.
    this.delivered(-1);
    this.dispatch('close');
  }

  /**
   * webrtcbin 1.22 resets the SCTP stream as soon as bufferedAmount reaches 0,
   * but bufferedAmount drops before the SCTP encoder has taken the last message:
   * when the association's send buffer is full, that message is lost and the
   * close never completes (fixed in GStreamer 1.22.3). So close() first waits
   * until the encoder has taken every byte queued on this stream.
   */
  private closeWhenDrained(): void {
    let lastSent = -1;
    let stalledSince = Date.now();
    const check = () => {
      this.drainTimer = undefined;
      if (this.state === 'closed' || this.pipeline.closed) return;
      const id = this.id;
      const sent = id === null ? 0 : native.dataChannelBytesSent(this.webrtcbin, id);
      if (sent !== lastSent) {
        lastSent = sent;
        stalledSince = Date.now();
      }
      const drained = this.bufferedAmount === 0 && sent >= this.bytesQueued;
      if (drained || Date.now() - stalledSince > DRAIN_STALL_MS) {
        this.closeNative();
        return;
      }
      this.drainTimer = setTimeout(check, DRAIN_POLL_MS);
    };
    check();
  }

  /** Tells the receive bound that JS took `bytes` (-1: forget what this channel still counts). */
  private delivered(bytes: number): void {
    if (this.pipeline.closed) return; // the count went with the pipeline
    try {
      native.dataChannelDelivered(this.native, bytes);
    } catch {
      // The channel is gone, and with it what it counted.
    }
  }

  /** Counts this channel's received messages against its WebRtcBin's RECEIVE_QUEUE_BOUND. */
  private limitReceive(): void {
    try {
      native.dataChannelLimitReceive(this.webrtcbin, this.native, RECEIVE_QUEUE_BOUND);
    } catch {
      // The channel or webrtcbin is gone: nothing more will be received.
    }
  }

  private enterClosing(): void {
    if (this.closingDispatched) return;
    this.closingDispatched = true;
    this.dispatch('closing');
  }

  private closeNative(): void {
    try {
      native.dataChannelClose(this.native);
    } catch {
      // The channel object is gone: webrtcbin already closed it, and 'close' is on its way.
    }
  }

  private refreshId(): void {
    const id = this.read('id');
    if (typeof id === 'number' && id >= 0) this.snapshot.id = id;
  }

  /** A property of the channel, or undefined once webrtcbin has freed it. */
  private read(property: string): unknown {
    return this.readFrom(this.native, property);
  }

  private readFrom(object: NativeObject, property: string): unknown {
    if (this.pipeline.closed) return undefined;
    try {
      return object.get(property);
    } catch {
      return undefined;
    }
  }

  private write(property: string, value: unknown): void {
    try {
      this.native.set(property, value);
    } catch {
      // Freed by webrtcbin: the channel is closing and the value no longer matters.
    }
  }

  private onNativeEvent(type: string, data: Record<string, unknown> | null): void {
    if (this.state === 'closed') return;
    switch (type) {
      case 'open':
        // Once only: webrtcbin 1.22 can signal on-open twice for a negotiated channel.
        if (this.openDispatched) return;
        this.openDispatched = true;
        this.state = 'open';
        clearTimeout(this.openTimer);
        this.openTimer = undefined;
        this.refreshId();
        this.limitReceive();
        if (this.closeRequested) this.closeWhenDrained();
        else this.dispatch('open');
        break;
      case 'closing':
        this.enterClosing();
        break;
      case 'message':
        try {
          this.dispatch('message', data?.data as string | Buffer);
        } finally {
          // After the listeners ran: a slow listener is what the bound is for.
          if (typeof data?.size === 'number' && data.size > 0) this.delivered(data.size);
        }
        break;
      case 'buffered-amount-low':
        // webrtcbin drains on its own thread while JS keeps sending, so by now the
        // amount may be high again; then a later crossing brings another event.
        if (this.bufferedAmount <= this.lowThreshold) this.dispatch('bufferedamountlow');
        break;
      case 'error':
        this.dispatchError('error', data?.error instanceof GstError ? data.error : new GstError(String(data?.error)));
        break;
      case 'close':
        this.markClosed();
        break;
    }
  }
}

function readSnapshot(channel: NativeObject): Snapshot {
  const optional = (value: unknown) => (typeof value === 'number' && value >= 0 ? value : null);
  return {
    label: String(channel.get('label') ?? ''),
    protocol: String(channel.get('protocol') ?? ''),
    ordered: channel.get('ordered') as boolean,
    negotiated: channel.get('negotiated') as boolean,
    maxPacketLifeTime: optional(channel.get('max-packet-lifetime')),
    maxRetransmits: optional(channel.get('max-retransmits')),
    id: optional(channel.get('id')),
  };
}

/**
 * The in-band control bytes webrtcbin pushes through the channel's stream before
 * any message: the DCEP OPEN (12 bytes, label and protocol) of a channel we
 * announce, or the one-byte DCEP ACK of one the peer announced (RFC 8832).
 */
function controlBytes(snapshot: Snapshot, origin: DataChannelOrigin): number {
  if (snapshot.negotiated) return 0;
  return origin === 'local' ? 12 + Buffer.byteLength(snapshot.label) + Buffer.byteLength(snapshot.protocol) : 1;
}

function toPayload(data: unknown): string | Buffer {
  if (typeof data === 'string' || Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  throw new TypeError('send() takes a string, a Buffer, an ArrayBuffer or an ArrayBufferView');
}

/** The native handle's object no longer exists (ErrorCode.Closed from the addon). */
function isGone(error: unknown): boolean {
  return error instanceof GstError && error.domain === ERROR_DOMAIN && error.code === ErrorCode.Closed;
}

/** webrtcbin's send errors as the W3C names them. */
function toSendError(error: unknown, label: string, size: number, limit: number): unknown {
  if (!(error instanceof GstError) || error.domain !== 'gst-webrtc-error-quark') return error;
  if (error.code === WEBRTC_ERROR_INVALID_STATE) return new InvalidStateError(`data channel "${label}" is not open`);
  if (error.code === WEBRTC_ERROR_TYPE_ERROR) return new TypeError(`data channel "${label}": a message of ${size} bytes exceeds maxMessageSize (${limit} bytes)`);
  return error;
}
