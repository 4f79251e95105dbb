// Runs a command-line program of this package (bin/gst-webrtc-node.js, an
// examples/ script) as a user would, as a child process, and watches its output.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';

import { until } from './wait.js';

export const ROOT = join(__dirname, '../..');
export const CLI = join(ROOT, 'bin/gst-webrtc-node.js');

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  /** stdout lines so far. */
  output: string[];
  /** stderr lines so far. */
  errors: string[];
  /** Resolves with the first stdout line (from line `after` on) matching `pattern`; rejects when the process exits first. */
  line(pattern: RegExp, timeoutMs?: number, after?: number): Promise<string>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** SIGTERM (as Ctrl+C or a service manager would), then SIGKILL after 10 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `node <script> ...args`. */
export function startNode(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): CliProcess {
  const child = spawn(process.execPath, [script, ...args], { stdio: 'pipe', env, cwd: ROOT });
  const output: string[] = [];
  const errors: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (text: string) => output.push(...text.split('\n').filter(Boolean)));
  child.stderr.setEncoding('utf8').on('data', (text: string) => errors.push(...text.split('\n').filter(Boolean)));
  // 'close', not 'exit': by then all its output has been read.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const line = async (pattern: RegExp, timeoutMs = 20_000, after = 0) => {
    const name = script.split('/').at(-1);
    await until(() => output.slice(after).some((text) => pattern.test(text)) || child.exitCode !== null, `${name} prints ${pattern}`, timeoutMs, 50);
    const found = output.slice(after).find((text) => pattern.test(text));
    if (found === undefined) throw new Error(`${name} exited (${child.exitCode}) before printing ${pattern}:\n${[...output, ...errors].join('\n')}`);
    return found;
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return { child, output, errors, line, exited, stop };
}

/** Starts `gst-webrtc-node <args>`. */
export function startCli(args: string[], env?: NodeJS.ProcessEnv): CliProcess {
  return startNode(CLI, args, env);
}

/** Runs a command to its end; resolves with its exit code and output. */
export async function runCli(args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string; errors: string }> {
  const run = startCli(args, env);
  const code = await run.exited;
  return { code, output: run.output.join('\n'), errors: run.errors.join('\n') };
}
