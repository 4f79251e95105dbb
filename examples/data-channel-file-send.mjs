// File send over a data channel: two WebRtcBins in this process, connected over
// real ICE, DTLS and SCTP. The sender announces the file in a text message, then
// sends it in 64 KiB binary messages (the most a GStreamer 1.22 message can
// carry), pausing whenever bufferedAmount is above 1 MiB until
// `bufferedamountlow`, so memory stays bounded whatever the file size. The
// receiver writes it to a temporary file and checks its SHA-256.
//
//   node examples/data-channel-file-send.mjs [file]     (default: 32 MiB of random bytes)
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

import { PeerConnector, WebRtcBin } from 'gst-webrtc-node';

const CHUNK = 64 * 1024;
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

const scratch = mkdtempSync(join(tmpdir(), 'file-send-'));
let path = process.argv[2];
if (path === undefined) {
  path = join(scratch, 'random.bin');
  writeFileSync(path, randomBytes(32 * 1024 * 1024));
}
const size = statSync(path).size;

const sender = new WebRtcBin();
const receiver = new WebRtcBin();

// Receiver: a text header { name, size }, then the bytes, then a text trailer with the SHA-256.
receiver.on('datachannel', (channel) => {
  let output;
  let header;
  let received = 0;
  const hash = createHash('sha256');
  channel.on('message', (data) => {
    if (typeof data === 'string') {
      const message = JSON.parse(data);
      if (message.name !== undefined) {
        header = message;
        output = createWriteStream(join(scratch, `received-${message.name}`));
      } else {
        const ok = received === header.size && hash.digest('hex') === message.sha256;
        console.log(ok ? `received ${received} bytes, SHA-256 matches` : `corrupted: ${received} bytes, SHA-256 differs`);
        process.exitCode = ok ? 0 : 1;
        output.end(() => channel.close());
      }
      return;
    }
    hash.update(data);
    output.write(data);
    received += data.length;
  });
});

// Sender: open the channel before negotiating, so the offer carries it.
const channel = sender.createDataChannel('file', { protocol: 'file-transfer' });
channel.bufferedAmountLowThreshold = LOW_WATER;
await PeerConnector.pair(sender, receiver);
if (channel.readyState !== 'open') await once(channel, 'open');

const started = performance.now();
channel.send(JSON.stringify({ name: basename(path), size }));
const hash = createHash('sha256');
const file = await open(path);
const buffer = Buffer.alloc(CHUNK);
for (let sent = 0; sent < size; ) {
  // Flow control: wait while more than HIGH_WATER bytes are queued.
  if (channel.bufferedAmount > HIGH_WATER) await once(channel, 'bufferedamountlow');
  const { bytesRead } = await file.read(buffer, 0, CHUNK, sent);
  const chunk = buffer.subarray(0, bytesRead);
  channel.send(chunk); // copied: the buffer can be refilled at once
  hash.update(chunk);
  sent += bytesRead;
}
await file.close();
channel.send(JSON.stringify({ sha256: hash.digest('hex') }));

// The receiver closes the channel once it has checked the file; both sides then see 'close'.
await once(channel, 'close');
const seconds = (performance.now() - started) / 1000;
console.log(`sent ${basename(path)}: ${(size / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s (${(size / 1e6 / seconds).toFixed(1)} MB/s)`);
sender.close();
receiver.close();
rmSync(scratch, { recursive: true, force: true });
