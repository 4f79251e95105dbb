import { InvalidStateError } from './errors.js';
import type { NativeObject } from './native.js';

/** Something whose use after close() must fail clearly. */
export interface Closable {
  readonly closed: boolean;
}

/**
 * A GStreamer element (or any GObject) inside a pipeline. Properties read and
 * write as plain JS values: booleans, numbers, strings, enums by nick
 * (`'max-bundle'`), caps as strings, structures as objects.
 */
export class Element {
  /** @internal */
  constructor(
    /** @internal */ readonly native: NativeObject,
    private readonly owner: Closable,
  ) {}

  /** The element's name, unique within its bin (`videotestsrc0`, or the `name=` you gave). */
  get name(): string | null {
    this.assertOpen();
    return this.native.name;
  }

  /** The factory that made it (`videotestsrc`), or null for objects that are not elements. */
  get factoryName(): string | null {
    this.assertOpen();
    return this.native.factoryName;
  }

  /** The GType name, e.g. `GstWebRTCBin`. */
  get typeName(): string {
    this.assertOpen();
    return this.native.typeName;
  }

  /** Reads a GObject property. Throws TypeError for a property that does not exist. */
  get(property: string): unknown {
    this.assertOpen();
    if (typeof property !== 'string') throw new TypeError('property name must be a string');
    return this.native.get(property);
  }

  /** Writes a GObject property. Throws TypeError for a missing property or a value of the wrong type. */
  set(property: string, value: unknown): this {
    this.assertOpen();
    if (typeof property !== 'string') throw new TypeError('property name must be a string');
    this.native.set(property, value);
    return this;
  }

  /** Names of all properties this object has. */
  propertyNames(): string[] {
    this.assertOpen();
    return this.native.propertyNames();
  }

  private assertOpen(): void {
    // Not naming the element: once its pipeline is closed the element no longer exists.
    if (this.owner.closed) throw new InvalidStateError('the pipeline of this element is closed');
  }
}
