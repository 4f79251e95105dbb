// Runs one of the examples/ scripts as a user would (`node examples/<name>.mjs ...`)
// and waits until it prints the URL to open.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';

import { until } from './wait.js';

export interface ExampleProcess {
  /** The page's URL, from the line "open <url> in ...". */
  url: string;
  /** stdout lines so far. */
  output: string[];
  /** stderr lines so far. */
  errors: string[];
  /** Resolves with the next stdout line matching `pattern` (or one already printed after `after` lines). */
  line(pattern: RegExp, timeoutMs?: number, after?: number): Promise<string>;
  /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function startExample(name: string, args: string[], timeoutMs = 20_000): Promise<ExampleProcess> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [join(__dirname, '../../examples', `${name}.mjs`), ...args], { stdio: 'pipe' });
  const output: string[] = [];
  const errors: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (text: string) => output.push(...text.split('\n').filter(Boolean)));
  child.stderr.setEncoding('utf8').on('data', (text: string) => errors.push(...text.split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  const line = async (pattern: RegExp, waitMs = 20_000, after = 0) => {
    await until(() => output.slice(after).some((text) => pattern.test(text)) || child.exitCode !== null, `${name} prints ${pattern}`, waitMs, 50);
    const found = output.slice(after).find((text) => pattern.test(text));
    if (found === undefined) throw new Error(`${name} exited (${child.exitCode}) before printing ${pattern}:\n${[...output, ...errors].join('\n')}`);
    return found;
  };
  try {
    const ready = await line(/open (https?:\S+) in/, timeoutMs);
    return { url: /open (https?:\S+) in/.exec(ready)![1], output, errors, line, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
