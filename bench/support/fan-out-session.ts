// One MediaFanOut (lib/fan-out.ts) and its viewers, all in this process: the
// scenario of figures 4 and 5. Each viewer is two webrtcbins here: the sending
// one MediaFanOut adds to its pipeline, and a receiving WebRtcBin (a pipeline of
// its own) that depayloads and decodes the video, as a browser would.
import { MediaFanOut, PeerConnector, WebRtcBin, type Element } from '../../lib/index.js';
import { until } from '../../test/support/wait.js';
import { FRAME_RATE } from './media.js';

/** The source every viewer gets: a live test pattern, VP8-encoded once. */
export const FAN_OUT_SOURCE = `videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=${FRAME_RATE}/1`;
/** VP8 bitrate of the fan-out source, kbit/s. */
export const FAN_OUT_BITRATE = 500;
/** What each viewer does with the video: decode every frame, and count it. */
const VIEWER_BRANCH = 'rtpvp8depay wait-for-keyframe=true request-keyframe=true ! vp8dec ! fakesink name=frames sync=false async=false';

/** How long a viewer may take to connect and decode its first frame. */
const JOIN_TIMEOUT_MS = 90_000;

export class FanOutSession {
  private readonly receivers: WebRtcBin[] = [];

  private constructor(readonly fanOut: MediaFanOut) {}

  /** A playing fan-out with no viewers yet. */
  static async start(): Promise<FanOutSession> {
    const fanOut = new MediaFanOut({ video: { source: FAN_OUT_SOURCE, codec: 'VP8', bitrate: FAN_OUT_BITRATE } });
    const session = new FanOutSession(fanOut);
    try {
      await fanOut.start();
    } catch (error) {
      session.close();
      throw error;
    }
    return session;
  }

  get viewerCount(): number {
    return this.receivers.length;
  }

  /**
   * Adds `count` viewers, `concurrency` of them negotiating at a time; resolves
   * once every new viewer has decoded a frame. Each join starts in an event-loop
   * turn of its own, as joins requested by separate signalling messages do.
   */
  async addViewers(count: number, concurrency: number): Promise<void> {
    let left = count;
    while (left > 0) {
      const batch = Math.min(left, concurrency);
      left -= batch;
      const joins: Promise<void>[] = [];
      for (let i = 0; i < batch; i++) {
        const join = this.addViewer();
        join.catch(() => undefined); // handled by Promise.all below, even if it fails before that is reached
        joins.push(join);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(joins);
    }
  }

  /** Frames each viewer has decoded so far, in joining order. */
  decodedFrames(): number[] {
    return this.receivers.map((receiver) => {
      const stats = receiver.pipeline.getElement('frames')?.get('stats') as { rendered?: number } | undefined;
      return stats?.rendered ?? 0;
    });
  }

  /** Frames the source has encoded so far. */
  encodedFrames(): number {
    return this.fanOut.framesProduced.video ?? 0;
  }

  close(): void {
    for (const receiver of this.receivers) receiver.close();
    this.fanOut.close();
  }

  private async addViewer(): Promise<void> {
    const sender = this.fanOut.addViewer();
    const receiver = new WebRtcBin({ latency: 50 });
    this.receivers.push(receiver);
    receiver.on('track', (track) => void track.link(VIEWER_BRANCH));
    await PeerConnector.pair(sender, receiver);
    // Looked up once found: a lookup by name walks the pipeline, taking each bin's lock.
    let frames: Element | null = null;
    const decoded = () => {
      frames ??= receiver.pipeline.getElement('frames');
      return ((frames?.get('stats') as { rendered?: number } | undefined)?.rendered ?? 0) > 0;
    };
    await until(decoded, `viewer ${this.receivers.length} decodes a frame`, JOIN_TIMEOUT_MS);
  }
}

/** Milliseconds of sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
