// Builds (once) and runs test/support/rtsp-server.c: a real RTSP server on
// 127.0.0.1, like an IP camera, serving H.264.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SOURCE = join(__dirname, 'rtsp-server.c');
const BINARY = join(__dirname, '../../node_modules/.cache/gst-webrtc-node/rtsp-server');

/** A camera-like H.264 stream: constrained baseline, a keyframe every second. */
export const CAMERA_LAUNCH =
  '( videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1 ! ' +
  'x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! video/x-h264,profile=constrained-baseline ! ' +
  'rtph264pay name=pay0 pt=96 config-interval=-1 )';

/** Compiles the server when it is missing or older than its source. */
export function buildRtspServer(): string {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs) return BINARY;
  mkdirSync(join(BINARY, '..'), { recursive: true });
  let flags: string[];
  try {
    flags = execFileSync('pkg-config', ['--cflags', '--libs', 'gstreamer-rtsp-server-1.0', 'gstreamer-rtsp-1.0'], { encoding: 'utf8' }).trim().split(/\s+/);
  } catch (error) {
    throw new Error('gst-rtsp-server is not installed: apt-get install libgstrtspserver-1.0-dev', { cause: error });
  }
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', BINARY, SOURCE, ...flags], { stdio: ['ignore', 'inherit', 'inherit'] });
  return BINARY;
}

export interface RtspServer {
  /** rtsp://127.0.0.1:<port><mount> */
  readonly url: string;
  readonly port: number;
  /** The Transport header of each SETUP request so far (e.g. "RTP/AVP/TCP;unicast;interleaved=0-1"). */
  readonly setups: string[];
  /** Stops the server (SIGKILL: a camera that vanishes does not say goodbye). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** Freezes the server (SIGSTOP): its connections stay open but carry nothing, like a hung camera. */
  freeze(): void;
  /** Lets a frozen server run again (SIGCONT). */
  thaw(): void;
}

function launch(binary: string, port: number, mount: string, description: string, credentials: string | undefined, setups: string[]): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const args = [String(port), mount, description, ...(credentials === undefined ? [] : [credentials])];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = '';
    child.stdout!.on('data', (data: Buffer) => {
      lines += data.toString('utf8');
      const complete = lines.split('\n');
      lines = complete.pop()!;
      for (const line of complete) if (line.startsWith('setup ')) setups.push(line.slice('setup '.length));
    });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the RTSP server did not start within 10 s: ${output}`));
    }, 10_000);
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      output += text;
      const ready = /ready (\d+)/.exec(output);
      if (ready !== null) {
        clearTimeout(timer);
        resolve({ child, port: Number(ready[1]) });
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the RTSP server exited (${code}): ${output}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || (child.signalCode !== null && child.signalCode !== 'SIGSTOP')) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * Starts an RTSP server serving `description` (its payloader must be named pay0); with `credentials`
 * ("user:password"), only to clients that give them.
 */
export async function startRtspServer(options: { description?: string; mount?: string; credentials?: string } = {}): Promise<RtspServer> {
  const binary = buildRtspServer();
  const mount = options.mount ?? '/camera';
  const description = options.description ?? CAMERA_LAUNCH;
  const setups: string[] = [];
  let { child, port } = await launch(binary, 0, mount, description, options.credentials, setups);
  return {
    url: `rtsp://127.0.0.1:${port}${mount}`,
    port,
    setups,
    stop: () => stopChild(child),
    freeze: () => child.kill('SIGSTOP'),
    thaw: () => child.kill('SIGCONT'),
    async restart() {
      await stopChild(child);
      // The port was just freed; binding it again can race the kernel briefly.
      for (let attempt = 1; ; attempt++) {
        try {
          ({ child } = await launch(binary, port, mount, description, options.credentials, setups));
          return;
        } catch (error) {
          if (attempt >= 20) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    },
  };
}
