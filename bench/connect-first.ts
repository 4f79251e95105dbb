// The first connection of a fresh process, for figure 2: with or without
// `await warmUp()` before it, then a few more in the same process to compare it
// with. bench/connect-time.ts starts one process per sample.
//
//   node vite-node bench/connect-first.ts --kind=data|media --result=FILE [--warm-up]
//
// `data`: two WebRtcBins and a data channel (only what webrtcbin itself needs);
// `media`: figure 2's VP8 + Opus sender and decoding receiver, whose encoder,
// decoder and test-source plugins warmUp() does not load.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { warmUp } from '../lib/index.js';
import { connectOnce } from './connect-time.js';
import { gstWebrtcNode } from './side-by-side/gst-webrtc-node.js';
import { FOLLOWING, type FirstConnectionResult } from './support/first-connection.js';

async function connectMs(kind: 'data' | 'media'): Promise<number> {
  if (kind === 'media') return (await connectOnce()).createdToConnectedMs;
  const pair = await gstWebrtcNode.connect('data');
  await pair.close();
  return pair.connectedMs;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { result: { type: 'string' }, kind: { type: 'string', default: 'data' }, 'warm-up': { type: 'boolean', default: false } },
    strict: true,
  });
  const kind = values.kind;
  if (values.result === undefined || (kind !== 'data' && kind !== 'media')) {
    process.stderr.write('usage: connect-first.ts --kind=data|media --result=FILE [--warm-up]\n');
    return 2;
  }
  try {
    let warmUpMs: number | null = null;
    if (values['warm-up']) {
      const started = performance.now();
      await warmUp();
      warmUpMs = performance.now() - started;
    }
    const firstMs = await connectMs(kind);
    const followingMs: number[] = [];
    for (let i = 0; i < FOLLOWING; i++) followingMs.push(await connectMs(kind));
    const result: FirstConnectionResult = { warmUpMs, firstMs, followingMs };
    writeFileSync(values.result, JSON.stringify(result));
    return 0;
  } catch (error) {
    process.stderr.write(`connect-first failed: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

void main().then((code) => process.exit(code));
