// Under BUNDLE every stream needs its own payload type: hence pt=96 and pt=111.
import type { Pipeline } from '../../lib/index.js';

/** Buffers a sink has rendered so far (GstBaseSink's `stats`), 0 when it does not exist yet. */
export function rendered(pipeline: Pipeline, sinkName: string): number {
  const stats = pipeline.getElement(sinkName)?.get('stats') as { rendered?: number } | undefined;
  return stats?.rendered ?? 0;
}

/** A live VP8 test-pattern sender description ending in a payloader. */
export const VP8_SOURCE = 'videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! vp8enc deadline=1 ! rtpvp8pay pt=96';
/** A live Opus test-tone sender description ending in a payloader. */
export const OPUS_SOURCE = 'audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! opusenc ! rtpopuspay pt=111';
