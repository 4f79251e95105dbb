// gst-discoverer-1.0 (gstreamer1.0-plugins-base-apps): what a media file holds, as a player sees it.
import { execFile } from 'node:child_process';

export interface Discovered {
  /** Seconds, from the container. */
  duration: number;
  /** e.g. ['video: VP8', 'audio: Opus'] */
  streams: string[];
  seekable: boolean;
}

export function discover(path: string): Promise<Discovered> {
  return new Promise((resolve, reject) => {
    execFile('gst-discoverer-1.0', [path], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`gst-discoverer-1.0 ${path} failed: ${stderr || stdout || error.message}`));
      const duration = /Duration: (\d+):(\d+):(\d+\.\d+)/.exec(stdout);
      if (duration === null) return reject(new Error(`gst-discoverer-1.0 found no duration in ${path}:\n${stdout}`));
      resolve({
        duration: Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]),
        streams: [...stdout.matchAll(/^\s*(video|audio) #\d+: (.+)$/gm)].map((match) => `${match[1]}: ${match[2].trim()}`),
        seekable: /Seekable: yes/.test(stdout),
      });
    });
  });
}
