// Errors of the WHIP and WHEP clients: what failed, the HTTP status and the
// server's own words, so a log line says why a publish or a playback was refused.

/** Why a WHIP or WHEP request failed. */
export type HttpSessionErrorKind =
  /** The server answered with an error status (see `status` and `reason`). */
  | 'http'
  /** No answer within the timeout. */
  | 'timeout'
  /** The connection failed (refused, reset, DNS). */
  | 'network'
  /** The server answered 2xx but not as the protocol says (no SDP, too many redirects, ...). */
  | 'protocol';

/** A failed WHIP or WHEP exchange. */
export class HttpSessionError extends Error {
  /** What kind of failure this is. */
  readonly kind: HttpSessionErrorKind;
  /** The HTTP status, or null when there was no response. */
  readonly status: number | null;
  /** The server's reason (its response body, or the status text), or a description of the failure. */
  readonly reason: string;
  /** The request method, e.g. `POST`. */
  readonly method: string;
  /** The URL the failed request went to (credentials removed). */
  readonly url: string;

  constructor(protocol: string, details: { kind: HttpSessionErrorKind; status?: number | null; reason: string; method: string; url: string }) {
    const status = details.status ?? null;
    super(`${protocol} ${details.method} ${details.url} ${status === null ? 'failed' : `answered ${status}`}: ${details.reason}`);
    this.kind = details.kind;
    this.status = status;
    this.reason = details.reason;
    this.method = details.method;
    this.url = details.url;
  }
}

/** A failed WHIP exchange (WhipClient). `status` is the HTTP status, `reason` the server's reason. */
export class WhipError extends HttpSessionError {
  constructor(details: ConstructorParameters<typeof HttpSessionError>[1]) {
    super('WHIP', details);
    this.name = 'WhipError';
  }
}

/** A failed WHEP exchange (WhepClient). `status` is the HTTP status, `reason` the server's reason. */
export class WhepError extends HttpSessionError {
  constructor(details: ConstructorParameters<typeof HttpSessionError>[1]) {
    super('WHEP', details);
    this.name = 'WhepError';
  }
}
