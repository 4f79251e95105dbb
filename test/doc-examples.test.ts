// Doc-tests: every TypeScript/JavaScript code block in README.md and docs/ runs
// here as written, in a child process of its own, importing 'gst-webrtc-node'
// (this package, by self-reference).
//
// The line before a block may say what it shows or why it cannot run:
//   <!-- doc-test: expect /regular expression/ -->  it runs until its output matches (then it is stopped)
//   <!-- doc-test: skip: the reason -->                 it is not run (a fragment, a real camera, ...)
// A block with neither must exit by itself, with code 0. Any block fails on an
// uncaught error, a non-zero exit, or a GLib CRITICAL/WARNING on stderr.
// The only change made to a block: display and audio sinks become fakesinks.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
// Inside the package (build/ is ignored by git), so that 'gst-webrtc-node' resolves to it.
const scratch = join(root, 'build/doc-tests');
const RUNNABLE = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs']);
const TIMEOUT_MS = 20_000;

interface DocBlock {
  file: string;
  line: number;
  code: string;
  expect: RegExp | null;
  skip: string | null;
}

/** The runnable blocks of a markdown file, with their doc-test directives. */
export function docBlocks(file: string): DocBlock[] {
  const text = readFileSync(join(root, file), 'utf8');
  const blocks: DocBlock[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```/gm;
  for (let match = fence.exec(text); match !== null; match = fence.exec(text)) {
    if (!RUNNABLE.has(match[1])) continue;
    const before = text.slice(0, match.index).trimEnd().split('\n').pop() ?? '';
    const directive = /^<!-- doc-test: (expect \/(.+)\/|skip: (.+?)) -->$/.exec(before.trim());
    blocks.push({
      file,
      line: text.slice(0, match.index).split('\n').length,
      code: match[2],
      expect: directive?.[2] !== undefined ? new RegExp(directive[2]) : null,
      skip: directive?.[3] ?? null,
    });
  }
  return blocks;
}

function documents(): string[] {
  return ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
}

/** Display sinks have no display here; everything else stays as written. */
function headless(code: string): string {
  return code.replace(/\bauto(video|audio)sink\b/g, 'fakesink sync=true');
}

async function run(block: DocBlock): Promise<{ output: string; code: number | null; matched: boolean }> {
  mkdirSync(scratch, { recursive: true });
  const script = join(scratch, `${block.file.replace(/\W/g, '_')}_${block.line}.mjs`);
  const js = ts.transpileModule(headless(block.code), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  writeFileSync(script, js);
  const child = spawn(process.execPath, [script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let matched = false;
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (!matched && block.expect?.test(output)) {
        matched = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ output, code, matched });
    });
  });
}

describe('code blocks in the docs', () => {
  for (const file of documents()) {
    for (const block of docBlocks(file)) {
      const title = `${block.file}:${block.line}`;
      if (block.skip !== null) {
        it(`${title} is marked as not run: ${block.skip}`, () => expect(block.skip!.length).toBeGreaterThan(10));
        continue;
      }
      it(`${title} runs as written`, async () => {
        const { output, code, matched } = await run(block);
        expect(output, 'GLib printed a CRITICAL or WARNING').not.toMatch(/-(CRITICAL|WARNING) \*\*/);
        expect(output).not.toMatch(/Uncaught|Unhandled|Error: /);
        if (block.expect !== null) expect(matched, `output never matched ${block.expect}:\n${output.slice(-2000)}`).toBe(true);
        else expect(code, output.slice(-2000)).toBe(0);
      }, TIMEOUT_MS + 10_000);
    }
  }
});
