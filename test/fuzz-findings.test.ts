// Every input the fuzzer (npm run fuzz) found that crashed, hung or made GLib
// print a CRITICAL is kept in test/fixtures/fuzz/findings/ and replayed here,
// each in a child process (scripts/fuzz/worker.cjs, the fuzzer's own replayer).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { type NodeRun, runNode } from './support/node-child.js';

const FINDINGS = join(__dirname, 'fixtures', 'fuzz', 'findings');

function replay(file: string): Promise<NodeRun> {
  // The worker takes an array of cases.
  const script = `
      const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-finding-'));
      const file = path.join(dir, 'cases.json');
      fs.writeFileSync(file, JSON.stringify([JSON.parse(fs.readFileSync(${JSON.stringify(file)}, 'utf8'))]));
      process.argv[2] = file;
      process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
      require(${JSON.stringify(join(__dirname, '..', 'scripts', 'fuzz', 'worker.cjs'))});
    `;
  return runNode(['-e', script], `replaying ${file}`, 25_000, { ...process.env, GST_DEBUG: '0' });
}

describe('fuzzer findings stay fixed', () => {
  for (const name of readdirSync(FINDINGS).filter((file) => file.endsWith('.json'))) {
    it(name, async () => {
      const run = await replay(join(FINDINGS, name));
      expect({ code: run.code, signal: run.signal }, run.stderr).toEqual({ code: 0, signal: null });
      expect(run.stdout).toMatch(/^done$/m);
      expect(run.stdout).not.toMatch(/^(hang|untyped) /m);
      expect(run.stderr).not.toMatch(/CRITICAL|Bail out|assertion/);
    });
  }
});
