// Pipeline descriptions of the demo: what it sends (a test pattern and a test tone
// by default, or a camera) and how it decodes what a browser sends back.
// Every stream in a BUNDLE needs its own payload type: VP8 is 96, Opus 111.

/** Encodes raw video for browsers: VP8, a keyframe at least every 2 s for late joiners. */
const VP8_ENCODER =
  'videoconvert ! queue max-size-buffers=2 leaky=downstream ! ' +
  'vp8enc deadline=1 cpu-used=8 keyframe-max-dist=60 target-bitrate=1500000 error-resilient=partitions ! rtpvp8pay pt=96';

const OPUS_ENCODER = 'audioconvert ! audioresample ! queue ! opusenc bitrate=64000 ! rtpopuspay pt=111';

const TEST_PATTERN = 'videotestsrc is-live=true pattern=ball motion=sweep ! video/x-raw,width=640,height=480,framerate=30/1';
const TEST_TONE = 'audiotestsrc is-live=true wave=ticks tick-interval=1000000000 volume=0.4';

/**
 * The raw-video part of `--source`: `test` (moving test pattern), `v4l2` (the
 * first camera), `v4l2:/dev/videoN` or `/dev/videoN` (that camera), or any
 * gst-launch fragment whose output is raw video, e.g. `filesrc location=clip.webm ! decodebin`.
 * @param {string} source
 * @returns {string}
 */
export function rawVideoSource(source) {
  const text = source.trim();
  if (text === '' || text === 'test') return TEST_PATTERN;
  if (text === 'v4l2') return 'v4l2src';
  const device = /^(?:v4l2:)?(\/dev\/video\d+)$/.exec(text)?.[1];
  if (device !== undefined) return `v4l2src device=${device}`;
  return text;
}

/**
 * The raw-audio part of `--audio-source`: `test` (a tick every second), `none`,
 * or any fragment whose output is raw audio, e.g. `pulsesrc` or `alsasrc device=hw:1`.
 * @param {string} source
 * @returns {string | null} null for `none`
 */
export function rawAudioSource(source) {
  const text = source.trim();
  if (text === 'none') return null;
  if (text === '' || text === 'test') return TEST_TONE;
  return text;
}

/**
 * The branches one browser is sent: a VP8 video branch and, unless the audio
 * source is `none`, an Opus audio branch, each ending in its RTP payloader.
 * @param {{ source?: string, audioSource?: string }} options
 * @returns {string[]}
 */
export function senderBranches(options) {
  const branches = [`${rawVideoSource(options.source ?? 'test')} ! ${VP8_ENCODER}`];
  const audio = rawAudioSource(options.audioSource ?? 'test');
  if (audio !== null) branches.push(`${audio} ! ${OPUS_ENCODER}`);
  return branches;
}

/** Names of the sinks that count what a browser sends (GstBaseSink `stats`). */
export const COUNTING_SINKS = { video: 'browser-video', audio: 'browser-audio' };

const DEPAYLOAD_DECODE = {
  VP8: 'rtpvp8depay ! vp8dec',
  VP9: 'rtpvp9depay ! vp9dec',
  OPUS: 'rtpopusdepay ! opusdec',
};

/**
 * The branch that decodes one incoming track, or null for a codec the demo does
 * not decode. Decoded media goes to a fakesink named after its kind (so frames
 * can be counted) and, when `sink` is given, to that fragment too (e.g. `autovideosink`).
 * @param {{ kind: 'audio' | 'video', encodingName: string }} track
 * @param {string | undefined} sink
 * @returns {string | null}
 */
export function receiverBranch(track, sink) {
  const decode = DEPAYLOAD_DECODE[/** @type {keyof typeof DEPAYLOAD_DECODE} */ (track.encodingName)];
  if (decode === undefined) return null;
  const counter = `fakesink name=${COUNTING_SINKS[track.kind]} sync=false async=false`;
  if (sink === undefined || sink.trim() === '') return `${decode} ! ${counter}`;
  const convert = track.kind === 'video' ? 'videoconvert' : 'audioconvert ! audioresample';
  return `${decode} ! tee name=${track.kind}-tee ! queue ! ${counter}  ${track.kind}-tee. ! queue ! ${convert} ! ${sink}`;
}
