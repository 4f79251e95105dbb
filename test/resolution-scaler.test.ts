// The picture size follows the bitrate (issue 13): a controller with the
// `resolution` option halves the picture under a target too low for it, and the
// receiver decodes the smaller picture; the rule's steps and hysteresis.
import { describe, expect, it } from 'vitest';

import { CongestionController, PeerConnector, transportCcCaps, VP8_ADAPTIVE_SETTINGS, WebRtcBin } from '../lib/index.js';
import { resolutionStep } from '../lib/media/congestion/resolution-scaler.js';
import { until } from './support/wait.js';

const VGA = { width: 640, height: 480, framerate: 30, minBitsPerPixel: 0.06 };

describe('resolutionStep', () => {
  it('halves the picture once per step under 0.06 bits per pixel (640x480 at 30 fps: 553 kbit/s, then 138 kbit/s)', () => {
    expect(resolutionStep(1_000_000, 0, VGA)).toBe(0);
    expect(resolutionStep(500_000, 0, VGA)).toBe(1);
    expect(resolutionStep(100_000, 0, VGA)).toBe(2);
    expect(resolutionStep(10_000, 0, VGA)).toBe(2); // a quarter of each dimension at most
  });

  it('grows back only with 30% to spare, so that a target near a step does not flip the size back and forth', () => {
    expect(resolutionStep(600_000, 1, VGA)).toBe(1);
    expect(resolutionStep(720_000, 1, VGA)).toBe(0);
    expect(resolutionStep(170_000, 2, VGA)).toBe(2);
    expect(resolutionStep(200_000, 2, VGA)).toBe(1);
    expect(resolutionStep(1_000_000, 2, VGA)).toBe(0);
  });
});

describe('a CongestionController with the resolution option', () => {
  it('sends half the picture under a target too low for all of it; the receiver decodes 320x240 frames', async () => {
    const sender = new WebRtcBin();
    const receiver = new WebRtcBin();
    try {
      sender.addTrack(
        'videotestsrc is-live=true ! video/x-raw,width=640,height=480,framerate=30/1 ! videoscale ! capsfilter name=size caps=video/x-raw,width=640,height=480 ' +
          `! vp8enc name=enc deadline=1 ${VP8_ADAPTIVE_SETTINGS} ! rtpvp8pay pt=96${transportCcCaps()}`,
      );
      const control = new CongestionController(sender, {
        encoder: sender.pipeline.getElement('enc')!,
        maxBitrate: 300_000,
        resolution: { capsfilter: sender.pipeline.getElement('size')!, width: 640, height: 480 },
      });
      expect(control.resolution).toEqual({ width: 320, height: 240 });
      // A decoded frame of any other size would fail this capsfilter's negotiation, and no frame would be counted.
      receiver.on('track', (track) => track.link('rtpvp8depay ! vp8dec ! capsfilter caps=video/x-raw,width=320,height=240 ! fakesink name=frames sync=false async=false'));
      await PeerConnector.pair(sender, receiver);
      await until(() => ((receiver.pipeline.getElement('frames')?.get('stats') as { rendered?: number } | undefined)?.rendered ?? 0) > 30, 'the receiver decodes 30 frames of 320x240', 20_000);
      expect(String(sender.pipeline.getElement('size')!.get('caps'))).toMatch(/width=\(int\)320, height=\(int\)240/);
    } finally {
      sender.close();
      receiver.close();
    }
  }, 40_000);

  it('refuses a size that is not a positive number', () => {
    const sender = new WebRtcBin();
    try {
      sender.addTrack('videotestsrc is-live=true ! videoscale ! capsfilter name=size ! vp8enc name=enc ! rtpvp8pay pt=96');
      const capsfilter = sender.pipeline.getElement('size')!;
      expect(() => new CongestionController(sender, { resolution: { capsfilter, width: 0, height: 480 } })).toThrow(TypeError);
      expect(() => new CongestionController(sender, { resolution: { capsfilter, width: 640, height: Number.NaN } })).toThrow(TypeError);
    } finally {
      sender.close();
    }
  });
});
