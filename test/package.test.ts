// The published entry points: ESM and CommonJS load the same single module instance.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
const node = (code: string, type: 'module' | 'commonjs') =>
  execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], { cwd: root, encoding: 'utf8' }).trim();

describe('package entry points', () => {
  it('import and require give the same classes, so instanceof works across both', () => {
    const out = node(
      `import { createRequire } from 'node:module';
       import * as esm from 'gst-webrtc-node';
       const cjs = createRequire(import.meta.url)('gst-webrtc-node');
       const names = ['Pipeline', 'WebRtcBin', 'GstError', 'InvalidStateError', 'PeerConnector', 'SignallingServer', 'SignallingClient'];
       console.log(names.every((n) => typeof esm[n] === 'function' && esm[n] === cjs[n]));
       const p = new esm.Pipeline('fakesrc ! fakesink');
       console.log(p instanceof cjs.Pipeline);
       p.close();`,
      'module',
    );
    expect(out).toBe('true\ntrue');
  });

  it('require() works on its own and throws GstError for a bad description', () => {
    const out = node(
      `const { Pipeline, GstError } = require('gst-webrtc-node');
       try { new Pipeline('fakesrc ! ! fakesink'); } catch (e) { console.log(e instanceof GstError, e.name); }`,
      'commonjs',
    );
    expect(out).toBe('true GstError');
  });

  it('ships type declarations for both', () => {
    expect(existsSync(join(root, 'dist/cjs/index.d.ts'))).toBe(true);
    expect(existsSync(join(root, 'dist/esm/index.d.mts'))).toBe(true);
  });
});
