import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let root: string | undefined;

/** The folder holding this package's package.json, from lib/ (sources) or dist/cjs/ (built). */
export function packageRoot(): string {
  if (root !== undefined) return root;
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'gst-webrtc-node') return (root = dir);
  }
  throw new Error(`gst-webrtc-node: cannot find the package folder above ${__dirname}`);
}
