import { native } from './native.js';

/** The GStreamer version this process runs, e.g. `{ major: 1, minor: 22, micro: 0 }`. */
export function gstreamerVersion(): { major: number; minor: number; micro: number } {
  return native.version();
}
