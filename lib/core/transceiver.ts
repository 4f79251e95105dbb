import { transceiverCaps } from './codecs.js';
import type { Closable } from './element.js';
import { InvalidStateError } from './errors.js';
import type { NativeObject } from './native.js';
import type { MediaKind, TransceiverDirection } from './types.js';

const DIRECTIONS = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/** @internal Throws TypeError unless `direction` is a W3C transceiver direction. */
export function checkDirection(direction: unknown): TransceiverDirection {
  if (typeof direction !== 'string' || !DIRECTIONS.has(direction)) throw new TypeError(`direction must be 'sendrecv', 'sendonly', 'recvonly' or 'inactive', not ${JSON.stringify(direction)}`);
  return direction as TransceiverDirection;
}

/** An RTCRtpTransceiver: webrtcbin's GstWebRTCRTPTransceiver. */
export class RtpTransceiver {
  /** @internal */
  constructor(
    /** @internal */ public native: NativeObject,
    private readonly owner: Closable,
    /** The caps it was made with, which setCodecPreferences(null) brings back; by default those of its kind. */
    private readonly defaultCaps: string | null = null,
  ) {}

  /** @internal A rollback before the first negotiation gave its WebRtcBin a new element, and this transceiver a new native one. */
  rebind(native: NativeObject): void {
    this.native = native;
  }

  /** The media id negotiated for it, or null before negotiation. */
  get mid(): string | null {
    return this.read('mid') as string | null;
  }

  /** Its m-line index in the SDP (webrtcbin's `mlineindex`). */
  get mlineIndex(): number {
    return this.read('mlineindex') as number;
  }

  /** 'audio', 'video', or null while unknown. */
  get kind(): MediaKind | null {
    const kind = this.read('kind');
    return kind === 'audio' || kind === 'video' ? kind : null;
  }

  /** The preferred direction; set it and renegotiate to change what flows. */
  get direction(): TransceiverDirection {
    return this.read('direction') as TransceiverDirection;
  }

  set direction(direction: TransceiverDirection) {
    this.write('direction', checkDirection(direction));
  }

  /** The direction negotiated last, or null before negotiation. */
  get currentDirection(): TransceiverDirection | null {
    const direction = this.read('current-direction');
    return direction === 'none' ? null : (direction as TransceiverDirection);
  }

  /** Codec preferences as caps text (`application/x-rtp, encoding-name=VP8, ...`), or null. */
  get codecPreferences(): string | null {
    return this.read('codec-preferences') as string | null;
  }

  /**
   * Restricts the codecs offered for this transceiver; takes caps text. null
   * (W3C: an empty list) brings back the codecs it had at first.
   */
  setCodecPreferences(caps: string | null): void {
    if (caps !== null && typeof caps !== 'string') throw new TypeError('codec preferences must be caps text or null');
    const kind = this.kind;
    this.write('codec-preferences', caps ?? this.defaultCaps ?? (kind === null ? null : transceiverCaps(kind)));
  }

  private read(property: string): unknown {
    return this.native.get(property);
  }

  private write(property: string, value: unknown): void {
    if (this.owner.closed) throw new InvalidStateError('the WebRtcBin is closed');
    this.native.set(property, value);
  }
}
