// Figure 4's scenario with the viewers in another process: one MediaFanOut here
// (the process the figure measures), its viewers' receiving WebRtcBins in
// bench/fan-out-viewers.ts, signalling over the child-process IPC channel.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

import { MediaFanOut, PeerConnector } from '../../lib/index.js';
import { FAN_OUT_BITRATE, FAN_OUT_SOURCE } from './fan-out-session.js';
import type { FromViewers, ToViewers } from './viewer-protocol.js';

export { FAN_OUT_BITRATE, FAN_OUT_SOURCE };

const ROOT = join(__dirname, '../..');
/** How long a viewer may take to connect and receive its first frame. */
const JOIN_TIMEOUT_MS = 90_000;

export class RemoteFanOut {
  private readonly connectors = new Map<number, PeerConnector>();
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private frameRequest: ((frames: Record<number, number>) => void) | undefined;
  private nextId = 0;
  private exited: Error | undefined;

  private constructor(
    readonly fanOut: MediaFanOut,
    private readonly viewers: ChildProcess,
  ) {
    viewers.on('message', (message: FromViewers) => this.onMessage(message));
    viewers.on('exit', (code, signal) => {
      this.exited = new Error(`the viewers' process exited (${signal ?? code})`);
      for (const waiter of this.waiting.values()) waiter.reject(this.exited);
    });
  }

  /** A playing fan-out with no viewers yet, and the viewers' process. */
  static async start(): Promise<RemoteFanOut> {
    const fanOut = new MediaFanOut({ video: { source: FAN_OUT_SOURCE, codec: 'VP8', bitrate: FAN_OUT_BITRATE } });
    const viewers = spawn(process.execPath, [join(ROOT, 'node_modules/vite-node/vite-node.mjs'), join(ROOT, 'bench/fan-out-viewers.ts')], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // A session of its own, as remote viewers would be: with Linux's autogroup
      // scheduling the viewers' threads then do not share this process's CPU share.
      // It still ends with this process (the IPC channel closing ends it).
      detached: true,
    });
    const session = new RemoteFanOut(fanOut, viewers);
    try {
      await fanOut.start();
    } catch (error) {
      session.close();
      throw error;
    }
    return session;
  }

  get viewerCount(): number {
    return this.connectors.size;
  }

  /** The viewers' process id: the figure leaves its threads and memory out. */
  get viewersPid(): number | undefined {
    return this.viewers.pid;
  }

  /** Adds `count` viewers, `concurrency` negotiating at a time; resolves once each new one receives frames. */
  async addViewers(count: number, concurrency: number): Promise<void> {
    let left = count;
    while (left > 0) {
      const batch = Math.min(left, concurrency);
      left -= batch;
      const joins: Promise<void>[] = [];
      for (let i = 0; i < batch; i++) {
        const join = this.addViewer();
        join.catch(() => undefined); // handled by Promise.all below
        joins.push(join);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(joins);
    }
  }

  /** Frames each viewer has received so far, in joining order. */
  async receivedFrames(): Promise<number[]> {
    const frames = await new Promise<Record<number, number>>((resolve) => {
      this.frameRequest = resolve;
      this.post({ type: 'frames' });
    });
    return [...this.connectors.keys()].map((id) => frames[id] ?? 0);
  }

  /** Frames the source has encoded so far. */
  encodedFrames(): number {
    return this.fanOut.framesProduced.video ?? 0;
  }

  close(): void {
    for (const connector of this.connectors.values()) connector.close();
    this.fanOut.close();
    if (this.exited === undefined && this.viewers.connected) this.post({ type: 'close' });
    // If it does not go by itself, it is ended (by its id) a little later.
    setTimeout(() => this.viewers.exitCode === null && this.viewers.kill('SIGKILL'), 5000).unref();
  }

  private addViewer(): Promise<void> {
    if (this.exited !== undefined) return Promise.reject(this.exited);
    const id = this.nextId++;
    const sender = this.fanOut.addViewer();
    const connector = new PeerConnector(sender, { role: 'offerer', send: (payload) => this.post({ type: 'signal', id, payload }) });
    this.connectors.set(id, connector);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`viewer ${id} received no frame within ${JOIN_TIMEOUT_MS} ms`)), JOIN_TIMEOUT_MS);
      const settle = (error?: Error) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (error === undefined) resolve();
        else reject(error);
      };
      this.waiting.set(id, { resolve: () => settle(), reject: settle });
      connector.on('error', (error) => settle(error));
      this.post({ type: 'add', id });
    });
  }

  private post(message: ToViewers): void {
    if (this.viewers.connected) this.viewers.send(message);
  }

  private onMessage(message: FromViewers): void {
    switch (message.type) {
      case 'signal':
        void this.connectors.get(message.id)?.handle(message.payload);
        break;
      case 'flowing':
        this.waiting.get(message.id)?.resolve();
        break;
      case 'error':
        this.waiting.get(message.id)?.reject(new Error(`viewer ${message.id}: ${message.message}`));
        break;
      case 'frames':
        this.frameRequest?.(message.frames);
        this.frameRequest = undefined;
        break;
    }
  }
}
