// Compiles lib/ to CommonJS (dist/cjs) and writes a thin ESM entry (dist/esm) that
// re-exports it. One module instance serves both `import` and `require`, so the
// native addon is loaded once and `instanceof` works across the two.
// It builds into a fresh folder and swaps it in at the end, so a process using
// dist/ (a running demo, a benchmark) never sees it half-built or missing.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const next = join(root, `dist.${process.pid}.tmp`);
rmSync(next, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(next, 'cjs')],
  { stdio: 'inherit' },
);

const require = createRequire(import.meta.url);
const names = Object.keys(require(join(next, 'cjs/index.js'))).filter((n) => n !== 'default');
mkdirSync(join(next, 'esm'), { recursive: true });
writeFileSync(
  join(next, 'esm/index.mjs'),
  `import cjs from '../cjs/index.js';\nexport const { ${names.join(', ')} } = cjs;\nexport default cjs;\n`,
);
writeFileSync(join(next, 'esm/index.d.mts'), `export * from '../cjs/index.js';\n`);

const old = `${dist}.old.${process.pid}`;
try {
  renameSync(dist, old);
} catch {
  // no previous build
}
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
