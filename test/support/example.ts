// Runs one of the examples/ scripts as a user would (`node examples/<name>.mjs ...`)
// and waits until it prints the URL to open.
import { join } from 'node:path';

import { type CliProcess, ROOT, startNode } from './cli.js';

export interface ExampleProcess extends Pick<CliProcess, 'output' | 'errors' | 'line' | 'stop'> {
  /** The page's URL, from the line "open <url> in ...". */
  url: string;
}

export async function startExample(name: string, args: string[], timeoutMs = 20_000): Promise<ExampleProcess> {
  const run = startNode(join(ROOT, 'examples', `${name}.mjs`), args);
  try {
    const ready = await run.line(/open (https?:\S+) in/, timeoutMs);
    return { url: /open (https?:\S+) in/.exec(ready)![1], output: run.output, errors: run.errors, line: run.line, stop: run.stop };
  } catch (error) {
    await run.stop();
    throw error;
  }
}
