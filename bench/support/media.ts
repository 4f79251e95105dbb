// Pipeline descriptions the figures share. Under BUNDLE each stream needs its own
// payload type: VP8 pt=96, Opus pt=111.

/** Figure 1's sender (and figure 2's): the same text as bench/reference/loopback.c and bench/loopback.cjs. */
export const LOOPBACK_SENDER =
  'videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=30/1 ' +
  '! vp8enc deadline=1 ! rtpvp8pay pt=96 ! webrtcbin name=tx bundle-policy=max-bundle ' +
  'audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! opusenc ! rtpopuspay pt=111 ! tx.';

/** The receiver's decoding branches in figures 1 and 2 (`dec` is where the first decoded frame is seen). */
export const LOOPBACK_VIDEO_BRANCH = 'rtpvp8depay ! vp8dec name=dec ! fakesink name=video';
export const LOOPBACK_AUDIO_BRANCH = 'rtpopusdepay ! opusdec ! fakesink name=audio';

/** The receiver's jitterbuffer latency in figures 1 and 2, in milliseconds. */
export const LOOPBACK_LATENCY = 50;

/** Frame rate of every video source, frames per second. */
export const FRAME_RATE = 30;
