import { GstError, InvalidStateError } from './errors.js';
import { native, type NativeObject } from './native.js';
import type { Pipeline } from './pipeline.js';
import { SafeEmitter, type ListenerErrorEvent } from './safe-emitter.js';

export type DataChannelState = 'connecting' | 'open' | 'closing' | 'closed';

/** RTCDataChannelInit. */
export interface DataChannelInit {
  ordered?: boolean;
  maxPacketLifeTime?: number;
  maxRetransmits?: number;
  protocol?: string;
  negotiated?: boolean;
  id?: number;
}

export interface DataChannelEvents extends ListenerErrorEvent {
  open: [];
  /** A string for text messages, a Buffer for binary ones. */
  message: [data: string | Buffer];
  bufferedamountlow: [];
  error: [error: GstError];
  close: [];
}

/** An RTCDataChannel: webrtcbin's GstWebRTCDataChannel. */
export class DataChannel extends SafeEmitter<DataChannelEvents> {
  private closeDispatched = false;

  /** @internal */
  constructor(
    private readonly pipeline: Pipeline,
    /** @internal */ readonly native: NativeObject,
    private readonly target: number,
  ) {
    super();
    pipeline.registerTarget(target, (type, data) => this.onNativeEvent(type, data));
  }

  get label(): string {
    return this.native.get('label') as string;
  }

  /** The SCTP stream id, or null before it is known. */
  get id(): number | null {
    const id = this.native.get('id') as number;
    return id < 0 ? null : id;
  }

  get protocol(): string {
    return (this.native.get('protocol') as string | null) ?? '';
  }

  get ordered(): boolean {
    return this.native.get('ordered') as boolean;
  }

  get negotiated(): boolean {
    return this.native.get('negotiated') as boolean;
  }

  get maxPacketLifeTime(): number | null {
    const value = this.native.get('max-packet-lifetime') as number;
    return value < 0 ? null : value;
  }

  get maxRetransmits(): number | null {
    const value = this.native.get('max-retransmits') as number;
    return value < 0 ? null : value;
  }

  get readyState(): DataChannelState {
    if (this.pipeline.closed) return 'closed';
    return this.native.get('ready-state') as DataChannelState;
  }

  /** Bytes queued by send() and not yet handed to the network. */
  get bufferedAmount(): number {
    return this.pipeline.closed ? 0 : (this.native.get('buffered-amount') as number);
  }

  /** `bufferedamountlow` fires when bufferedAmount falls to this many bytes or fewer. */
  get bufferedAmountLowThreshold(): number {
    return this.native.get('buffered-amount-low-threshold') as number;
  }

  set bufferedAmountLowThreshold(bytes: number) {
    if (!Number.isInteger(bytes) || bytes < 0) throw new TypeError('bufferedAmountLowThreshold must be a non-negative integer');
    this.native.set('buffered-amount-low-threshold', bytes);
  }

  /**
   * Sends a message: text for a string, binary for a Buffer or any ArrayBufferView.
   * @throws InvalidStateError unless the channel is open.
   */
  send(data: string | Buffer | ArrayBufferView): void {
    const state = this.readyState;
    if (state !== 'open') throw new InvalidStateError(`data channel "${this.label}" is ${state}, not open`);
    let payload: string | Buffer;
    if (typeof data === 'string' || Buffer.isBuffer(data)) payload = data;
    else if (ArrayBuffer.isView(data)) payload = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    else throw new TypeError('send() takes a string, a Buffer or an ArrayBufferView');
    native.dataChannelSend(this.native, payload);
  }

  /** Closes the channel; `close` follows once the other side has closed too. Idempotent. */
  close(): void {
    if (this.pipeline.closed) {
      this.finish();
      return;
    }
    const state = this.readyState;
    if (state === 'closing' || state === 'closed') return;
    native.dataChannelClose(this.native);
  }

  /** @internal The owning WebRtcBin closed. */
  finish(): void {
    if (this.closeDispatched) return;
    this.closeDispatched = true;
    this.pipeline.unregisterTarget(this.target);
    this.dispatch('close');
  }

  private onNativeEvent(type: string, data: Record<string, unknown> | null): void {
    switch (type) {
      case 'open':
        this.dispatch('open');
        break;
      case 'message':
        this.dispatch('message', data?.data as string | Buffer);
        break;
      case 'buffered-amount-low':
        this.dispatch('bufferedamountlow');
        break;
      case 'error':
        this.dispatchError('error', data?.error instanceof GstError ? data.error : new GstError(String(data?.error)));
        break;
      case 'close':
        this.finish();
        break;
    }
  }
}
