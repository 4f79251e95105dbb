import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { GstError, MissingDependencyError } from './errors.js';
import { packageRoot } from './package-root.js';

/** Which Debian/Ubuntu package provides an element, for the elements users most often lack. */
const ELEMENT_PACKAGES: Record<string, string> = {
  webrtcbin: 'gstreamer1.0-plugins-bad',
  nicesrc: 'gstreamer1.0-nice',
  nicesink: 'gstreamer1.0-nice',
  dtlssrtpenc: 'gstreamer1.0-plugins-bad',
  srtpenc: 'gstreamer1.0-plugins-bad',
  sctpenc: 'gstreamer1.0-plugins-bad',
  openh264enc: 'gstreamer1.0-plugins-bad',
  vp8enc: 'gstreamer1.0-plugins-good',
  vp8dec: 'gstreamer1.0-plugins-good',
  vp9enc: 'gstreamer1.0-plugins-good',
  rtpvp8pay: 'gstreamer1.0-plugins-good',
  rtph264pay: 'gstreamer1.0-plugins-good',
  rtspsrc: 'gstreamer1.0-plugins-good',
  v4l2src: 'gstreamer1.0-plugins-good',
  matroskamux: 'gstreamer1.0-plugins-good',
  webmmux: 'gstreamer1.0-plugins-good',
  opusenc: 'gstreamer1.0-plugins-base',
  opusdec: 'gstreamer1.0-plugins-base',
  videotestsrc: 'gstreamer1.0-plugins-base',
  audiotestsrc: 'gstreamer1.0-plugins-base',
  x264enc: 'gstreamer1.0-plugins-ugly',
  avdec_h264: 'gstreamer1.0-libav',
};

function installCommand(packages: string[]): string {
  return `sudo apt-get install -y ${packages.join(' ')}`;
}

/** The packages scripts/setup.sh installs (scripts/debian-packages.txt). */
export function requiredPackages(): string[] {
  try {
    return readFileSync(join(packageRoot(), 'scripts/debian-packages.txt'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
  } catch {
    return ['libgstreamer1.0-0', 'gstreamer1.0-plugins-base', 'gstreamer1.0-plugins-good', 'gstreamer1.0-plugins-bad', 'gstreamer1.0-nice'];
  }
}

/** The error for an element that is not installed, naming the package that provides it when known. */
export function missingElementError(element: string): MissingDependencyError {
  const pkg = ELEMENT_PACKAGES[element];
  const packages = pkg !== undefined ? [pkg] : ['gstreamer1.0-plugins-good', 'gstreamer1.0-plugins-bad', 'gstreamer1.0-plugins-ugly'];
  return new MissingDependencyError(`GStreamer element "${element}" is not installed`, packages, installCommand(packages));
}

/** The error for an addon that failed to load because system libraries are missing. */
export function missingLibrariesError(cause: unknown): MissingDependencyError {
  const packages = requiredPackages();
  const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
  const error = new MissingDependencyError(
    `gst-webrtc-node could not load its native addon (${reason}). GStreamer 1.22+ and its WebRTC plugins are required`,
    packages,
    installCommand(packages),
  );
  error.cause = cause;
  return error;
}

/** Turns a parse error for a missing element into a MissingDependencyError; other errors pass through. */
export function withInstallHint(error: unknown): unknown {
  if (error instanceof GstError && error.domain === 'gst_parse_error') {
    const missing = /no element "([^"]+)"/.exec(error.message);
    if (missing !== null) {
      const hint = missingElementError(missing[1]);
      hint.cause = error;
      return hint;
    }
  }
  return error;
}
