import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { Element, GstError, InvalidStateError, MissingDependencyError, Pipeline, gstreamerVersion } from '../lib/index.js';
import { discover } from './support/discoverer.js';
import { rendered } from './support/media.js';
import { nextEvent, until } from './support/wait.js';

const open: Pipeline[] = [];
const pipeline = (description?: string) => {
  const p = new Pipeline(description);
  open.push(p);
  return p;
};
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

describe('Pipeline', () => {
  it('plays, reports states in order, reaches end of stream and stops', async () => {
    const p = pipeline('videotestsrc num-buffers=30 ! video/x-raw,width=64,height=48 ! fakesink name=sink');
    const states: string[] = [];
    p.on('statechange', (state) => states.push(state));
    const eos = nextEvent(p, 'eos');
    await p.play();
    expect(p.state).toBe('playing');
    await eos;
    expect(rendered(p, 'sink')).toBe(30);
    expect(states).toEqual(['ready', 'paused', 'playing']);
    await p.stop();
    expect(p.state).toBe('null');
  });

  it('pause stops frames until play resumes them', async () => {
    const p = pipeline('videotestsrc is-live=true ! video/x-raw,width=64,height=48,framerate=30/1 ! fakesink name=sink sync=true');
    // A second pipeline as the witness that time passes: it renders frames while the first is paused.
    const clock = pipeline('videotestsrc is-live=true ! video/x-raw,width=64,height=48,framerate=30/1 ! fakesink name=sink sync=true');
    await p.play();
    await until(() => rendered(p, 'sink') > 5, 'frames are rendered while playing');
    await p.pause();
    expect(p.state).toBe('paused');
    const whilePaused = rendered(p, 'sink');
    await clock.play();
    await until(() => rendered(clock, 'sink') >= 15, 'half a second of frames in the witness pipeline');
    expect(rendered(p, 'sink')).toBe(whilePaused);
    await p.play();
    await until(() => rendered(p, 'sink') > whilePaused + 5, 'more frames are rendered after resuming');
  });

  it('rejects play() with the GstError that stopped it, naming the element', async () => {
    const p = pipeline('filesrc location=/nonexistent/file.webm ! fakesink');
    const errorEvent = nextEvent<[GstError]>(p, 'error');
    const failure = await p.play().then(() => null, (error: unknown) => error);
    expect(failure).toBeInstanceOf(GstError);
    const error = failure as GstError;
    expect(error.message).toMatch(/not found|No such file|Could not open/i);
    expect(error.source).toBe('filesrc0');
    expect(error.domain).toBe('gst-resource-error-quark');
    expect(error.debug).toMatch(/filesrc/);
    const [emitted] = await errorEvent;
    expect(emitted.message).toBe(error.message);
  });

  it('reports an error raised while playing as an error event', async () => {
    // caps that cannot be satisfied after the first buffer: videotestsrc cannot produce audio.
    const p = pipeline('videotestsrc is-live=true ! capsfilter name=f ! fakesink');
    await p.play();
    const error = nextEvent<[GstError]>(p, 'error');
    p.getElement('f')!.set('caps', 'audio/x-raw');
    const [e] = await error;
    expect(e).toBeInstanceOf(GstError);
    expect(e.source).toBeTruthy();
  });

  it('throws GstError for descriptions that do not parse', () => {
    expect(() => new Pipeline('videotestsrc ! ! fakesink')).toThrow(GstError);
    expect(() => new Pipeline('videotestsrc ! nobody-named-this.')).toThrow(GstError);
    expect(() => new Pipeline('videotestsrc pattern=no-such-pattern ! fakesink')).toThrow(GstError);
    expect(() => new Pipeline('videotestsrc ! video/x-raw,width=abc ! fakesink')).toThrow(GstError);
    expect(() => new Pipeline('   ')).toThrow(TypeError);
    expect(() => new Pipeline(42 as unknown as string)).toThrow(TypeError);
  });

  it('names the package to install for an element that is not installed', () => {
    let error: unknown;
    try {
      new Pipeline('videotestsrc ! x264encc ! fakesink');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as MissingDependencyError).message).toMatch(/"x264encc" is not installed/);
    expect((error as MissingDependencyError).command).toMatch(/^sudo apt-get install -y /);
    expect((error as MissingDependencyError).cause).toBeInstanceOf(GstError);
  });

  it('reads and writes properties as plain JS values', () => {
    const p = pipeline('videotestsrc name=src is-live=true ! capsfilter name=caps ! identity name=id ! fakesink name=sink');
    const src = p.getElement('src')!;
    expect(src).toBeInstanceOf(Element);
    expect(src.factoryName).toBe('videotestsrc');
    expect(src.get('is-live')).toBe(true);
    src.set('pattern', 'ball');
    expect(src.get('pattern')).toBe('ball');
    src.set('num-buffers', 42);
    expect(src.get('num-buffers')).toBe(42);
    const caps = p.getElement('caps')!;
    caps.set('caps', 'video/x-raw,width=320,height=240');
    expect(caps.get('caps')).toBe('video/x-raw, width=(int)320, height=(int)240');
    const identity = p.getElement('id')!;
    identity.set('drop-probability', 0.25);
    expect(identity.get('drop-probability')).toBeCloseTo(0.25);
    const sink = p.getElement('sink')!;
    expect(sink.get('stats')).toEqual({ 'average-rate': 0, dropped: 0, rendered: 0 });
    expect(p.getElement('nothing-by-this-name')).toBeNull();
  });

  it('rejects properties that do not exist and values of the wrong type with TypeError', () => {
    const p = pipeline('videotestsrc name=src ! fakesink');
    const src = p.getElement('src')!;
    expect(() => src.get('no-such-property')).toThrow(TypeError);
    expect(() => src.set('is-live', 'yes')).toThrow(/expected a boolean/);
    expect(() => src.set('num-buffers', 1.5)).toThrow(/integer/);
    expect(() => src.set('num-buffers', 2 ** 40)).toThrow(/integer/);
    expect(() => src.set('pattern', 'nope')).toThrow(/expected one of 'smpte'/);
    expect(() => src.set('pattern', {})).toThrow(TypeError);
    expect(() => p.getElement(42 as unknown as string)).toThrow(TypeError);
  });

  it('adds, links and removes branches while playing', async () => {
    const p = pipeline('videotestsrc is-live=true ! tee name=t ! queue ! fakesink');
    await p.play();
    const branch = p.add('queue ! fakesink name=extra');
    p.link(p.getElement('t')!, branch);
    await until(() => rendered(p, 'extra') > 5, 'the added branch renders frames');
    await p.remove(branch);
    expect(p.getElement('extra')).toBeNull();
    expect(() => p.add('no-such-element-here')).toThrow(MissingDependencyError);
  });

  it('close() is idempotent, and later calls fail with InvalidStateError', async () => {
    const p = pipeline('videotestsrc is-live=true ! fakesink name=sink');
    const sink = p.getElement('sink')!;
    await p.play();
    let closes = 0;
    p.on('close', () => closes++);
    p.close();
    p.close();
    expect(closes).toBe(1);
    expect(p.closed).toBe(true);
    expect(p.state).toBe('null');
    await expect(p.play()).rejects.toBeInstanceOf(InvalidStateError);
    expect(() => p.getElement('sink')).toThrow(InvalidStateError);
    expect(() => sink.get('stats')).toThrow(InvalidStateError);
    expect(() => p.sendEos()).toThrow(InvalidStateError);
  });

  it('rejects a state change in progress when the pipeline is closed', async () => {
    // Prerolling needs a buffer from the streaming thread, so the change is always asynchronous.
    const p = pipeline('videotestsrc ! fakesink');
    const playing = p.play();
    p.close();
    await expect(playing).rejects.toBeInstanceOf(InvalidStateError);
  });

  it('reports the GStreamer version it runs', () => {
    const version = gstreamerVersion();
    expect(version.major).toBe(1);
    expect(version.minor).toBeGreaterThanOrEqual(22);
  });

  it('a listener that throws is reported as listenererror and does not stop other listeners', async () => {
    const p = pipeline('videotestsrc num-buffers=1 ! fakesink');
    const failures: [unknown, string][] = [];
    const seenByLaterListener: string[] = [];
    p.on('listenererror', (error, event) => failures.push([error, event]));
    p.on('statechange', () => {
      throw new Error('listener bug');
    });
    p.on('statechange', (state) => seenByLaterListener.push(state));
    const eos = nextEvent(p, 'eos');
    await p.play();
    await eos;
    expect(failures.length).toBe(3);
    expect(failures.every(([error, event]) => event === 'statechange' && (error as Error).message === 'listener bug')).toBe(true);
    // The listener after the throwing one heard every state change.
    expect(seenByLaterListener).toEqual(['ready', 'paused', 'playing']);
  });

  it("without a listenererror listener, a listener's exception and an unhandled error event become process warnings", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const p = pipeline('videotestsrc num-buffers=1 ! fakesink');
      p.on('statechange', () => {
        throw new Error('listener bug');
      });
      const eos = nextEvent(p, 'eos');
      await p.play();
      await eos;
      // No 'error' listener: a pipeline error is reported as a warning, not thrown at the event loop.
      const failing = pipeline('filesrc location=/nonexistent/file.webm ! fakesink');
      await expect(failing.play()).rejects.toBeInstanceOf(GstError);
      await until(() => warnings.some((w) => w.name === 'GstWebRtcNodeWarning'), 'the unhandled error event is a warning');
      const listenerWarnings = warnings.filter((w) => w.name === 'ListenerError');
      expect(listenerWarnings.length).toBeGreaterThan(0);
      expect(listenerWarnings[0].message).toMatch(/a 'statechange' listener of Pipeline threw: Error: listener bug/);
      expect(warnings.find((w) => w.name === 'GstWebRtcNodeWarning')!.message).toMatch(/unhandled 'error' event on Pipeline: .*(not found|No such file|Could not open)/i);
    } finally {
      process.off('warning', onWarning);
    }
  });

  // Known bug (reported): before the pipeline first plays, runningTime is the clock's absolute time
  // (the machine's uptime), not null or 0. it.fails turns into a failure once that is fixed.
  it.fails('runningTime is null before the pipeline has a running clock', () => {
    const p = pipeline('videotestsrc is-live=true ! fakesink');
    expect(p.runningTime).toBeNull();
  });

  it('runningTime follows the media: at least one second once 31 frames of 30 fps were shown in sync, null once closed', async () => {
    const p = pipeline('videotestsrc is-live=true ! video/x-raw,width=64,height=48,framerate=30/1 ! fakesink name=sink sync=true');
    await p.play();
    // A synchronised sink shows frame n (timestamp n/30 s) once the running time has reached it.
    await until(() => rendered(p, 'sink') >= 31, '31 frames are shown');
    expect(p.runningTime!).toBeGreaterThanOrEqual(1e9);
    p.close();
    expect(p.runningTime).toBeNull();
  });

  it('sendEos() finishes a file: the muxer writes its index, and the file plays and seeks', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'gst-webrtc-node-eos-'));
    try {
      const path = join(directory, 'clip.webm');
      const p = pipeline(`videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=30/1 ! vp8enc deadline=1 ! webmmux ! filesink name=file location=${path}`);
      await p.play();
      await until(() => (p.runningTime ?? 0) >= 1e9, 'a second of running time');
      const eos = nextEvent(p, 'eos');
      p.sendEos();
      await eos;
      await p.stop();
      const file = await discover(path);
      expect(file.streams).toEqual(['video: VP8']);
      expect(file.seekable).toBe(true);
      expect(file.duration).toBeGreaterThan(0.5);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
