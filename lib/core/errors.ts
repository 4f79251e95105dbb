/** Details GStreamer attaches to an error. */
export interface GstErrorDetails {
  /** GLib error domain, e.g. `gst-core-error-quark`, `gst_parse_error`, `gst-resource-error-quark`. */
  domain?: string;
  /** Error code within the domain. */
  code?: number;
  /** GStreamer's debug text (element, file and function), when there is one. */
  debug?: string;
  /** Name of the element that raised the error, when there is one. */
  source?: string;
}

/**
 * An error that came from GStreamer: a pipeline description that does not parse,
 * an error message on the pipeline's bus, a failed state change, or a webrtcbin
 * operation that failed.
 */
export class GstError extends Error {
  override name = 'GstError';
  domain: string;
  code: number;
  debug?: string;
  source?: string;

  constructor(message: string, details: GstErrorDetails = {}) {
    super(message);
    this.domain = details.domain ?? 'gst-webrtc-node';
    this.code = details.code ?? 0;
    this.debug = details.debug;
    this.source = details.source;
  }
}

/** The object is closed, or the call does not fit its current state (W3C `InvalidStateError`). */
export class InvalidStateError extends Error {
  override name = 'InvalidStateError';
}

/** A well-formed request that cannot be carried out, e.g. a candidate for an m-line that does not exist (W3C `OperationError`). */
export class OperationError extends Error {
  override name = 'OperationError';
}

/** A system package (GStreamer, a plugin) is missing; `command` installs it. */
export class MissingDependencyError extends Error {
  override name = 'MissingDependencyError';
  constructor(
    message: string,
    /** Debian/Ubuntu packages that provide what is missing. */
    readonly packages: string[],
    /** The command that installs them. */
    readonly command: string,
  ) {
    super(`${message}\nInstall it with:\n  ${command}`);
  }
}
