// `gst-webrtc-node whip-server` and `whep-server` as users run them: the printed
// URLs work, a WHIP publish is restreamed over WHEP or recorded, and the demo's
// WHEP player page plays in Chromium.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { MediaFanOut, WhepClient, WhipClient, WhipError, type WebRtcBin } from '../lib/index.js';
import { launchChromium } from './support/chromium.js';
import { discover } from './support/discoverer.js';
import { rendered } from './support/media.js';
import { until } from './support/wait.js';

const CLI = join(__dirname, '../bin/gst-webrtc-node.js');

interface Command {
  output: string[];
  errors: string[];
  line(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  stop(): Promise<number | null>;
  /** Resolves with the exit code once the command exits by itself. */
  exited: Promise<number | null>;
}

function runCli(args: string[]): Command {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [CLI, ...args], { stdio: 'pipe' });
  const output: string[] = [];
  const errors: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (text: string) => output.push(...text.split('\n').filter(Boolean)));
  child.stderr.setEncoding('utf8').on('data', (text: string) => errors.push(...text.split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const command: Command = {
    output,
    errors,
    exited,
    async line(pattern, timeoutMs = 20_000) {
      await until(() => output.some((text) => pattern.test(text)) || child.exitCode !== null, `the command prints ${pattern}`, timeoutMs);
      const found = output.map((text) => pattern.exec(text)).find((match) => match !== null);
      if (found == null) throw new Error(`the command exited (${child.exitCode}) before printing ${pattern}:\n${[...output, ...errors].join('\n')}`);
      return found;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  open.push({ close: () => command.stop() });
  return command;
}

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

/** Plays a WHEP endpoint with our WhepClient, decoding video. */
async function play(url: string): Promise<{ webrtcbin: WebRtcBin; frames: () => number }> {
  const client = new WhepClient(url);
  open.push(client);
  client.on('track', (track) => track.link(track.kind === 'video' ? 'rtph264depay ! avdec_h264 output-corrupt=false ! fakesink name=video-out sync=false async=false' : 'fakesink sync=false async=false'));
  const webrtcbin = await client.play();
  return { webrtcbin, frames: () => (webrtcbin.closed ? 0 : rendered(webrtcbin.pipeline, 'video-out')) };
}

async function testPattern(): Promise<MediaFanOut> {
  const fan = new MediaFanOut({
    video: { source: 'videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1' },
    audio: { source: 'audiotestsrc is-live=true' },
  });
  open.push(fan);
  await fan.start();
  return fan;
}

describe('gst-webrtc-node whep-server / whip-server', () => {
  it('whep-server prints the endpoint and a player URL; our WhepClient and the player page in Chromium both decode', async () => {
    const cli = runCli(['whep-server', '--port', '0', '--audio-source', 'none']);
    const endpoint = (await cli.line(/WHEP endpoint (http:\S+)/))[1];
    const player = (await cli.line(/player: (http:\S+)/))[1];
    const { frames } = await play(endpoint);
    await until(() => frames() >= 15, 'our WhepClient decodes the test pattern');

    const chromium = await launchChromium();
    open.push(chromium);
    const page = await chromium.context.newPage();
    await page.goto(player);
    const decoded = async () => page.evaluate(async () => {
      const whep = (window as unknown as { whep?: { pc: RTCPeerConnection } }).whep;
      let count = 0;
      if (whep) (await whep.pc.getStats()).forEach((stats) => stats.type === 'inbound-rtp' && stats.kind === 'video' && (count = stats.framesDecoded ?? 0));
      return count;
    });
    await until(async () => (await decoded()) >= 30, 'the WHEP player page decodes', 20_000, 100).catch(async (error: Error) => {
      const stats = await page.evaluate(async () => {
        const out: string[] = [];
        (await (window as any).whep.pc.getStats()).forEach((s: any) => s.type === 'inbound-rtp' && out.push(JSON.stringify(s)));
        return out.join('\n');
      });
      throw new Error(`${error.message}: the page says "${await page.textContent('#summary')}", connection ${await page.textContent('#connection-state')} ${stats}`);
    });
    await cli.line(/player .* joined \(2 watching\)/);
    await page.close();
    expect(await cli.stop()).toBe(0);
    expect(cli.errors).toEqual([]);
  }, 60_000);

  it('whip-server restreams a WHIP publisher over WHEP, one publisher at a time', async () => {
    const cli = runCli(['whip-server', '--port', '0']);
    const whip = (await cli.line(/WHIP endpoint (http:\S+)/))[1];
    const whep = (await cli.line(/restream: WHEP endpoint (http:\S+)/))[1];
    const fan = await testPattern();
    const publisher = new WhipClient(whip);
    open.push(publisher);
    await publisher.publish(fan);
    await cli.line(/publisher .* joined; restreaming/);
    const { frames } = await play(whep);
    await until(() => frames() >= 30, 'the restream decodes');
    // A second publisher is refused while the first is live.
    const second = new WhipClient(whip);
    open.push(second);
    const refused = await second.publish(fan).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WhipError);
    expect(refused).toMatchObject({ status: 503, reason: expect.stringMatching(/limit of 1 sessions/) });
    await publisher.close();
    await cli.line(/publisher .* left: deleted/);
    expect(await cli.stop()).toBe(0);
    expect(cli.errors).toEqual([]);
  }, 60_000);

  it('whip-server --record writes each published session to a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'whip-record-'));
    open.push({ close: () => rmSync(dir, { recursive: true, force: true }) });
    const cli = runCli(['whip-server', '--port', '0', '--record', dir]);
    const whip = (await cli.line(/WHIP endpoint (http:\S+)/))[1];
    const fan = await testPattern();
    const publisher = new WhipClient(whip);
    open.push(publisher);
    await publisher.publish(fan);
    const file = (await cli.line(/recording to (\S+\.mkv)/))[1];
    await until(() => existsSync(file), 'the recording starts');
    await new Promise((resolve) => setTimeout(resolve, 2000)); // two seconds of media to record
    await publisher.close();
    expect((await cli.line(/saved (\S+)/))[1]).toBe(file);
    expect(readdirSync(dir)).toHaveLength(1);
    const discovered = await discover(file);
    expect(discovered.streams).toEqual(expect.arrayContaining([expect.stringMatching(/^video: H\.264/), expect.stringMatching(/^audio: Opus/)]));
    // (Not the container's duration: with H.264 from a MediaFanOut publisher, matroskamux
    // writes one shorter than the media it holds; a WebRtcRecorder finding, see the report.)
    expect(statSync(file).size).toBeGreaterThan(10_000);
    expect(await cli.stop()).toBe(0);
  }, 60_000);

  it('refuses bad options with exit code 2', async () => {
    const cli = runCli(['whip-server', '--port', 'x']);
    expect(await cli.exited).toBe(2);
    expect(cli.errors.join('\n')).toMatch(/invalid --port "x"/);
  });
});
