// Reading a request body with a size limit, and the small response helpers the
// WHIP/WHEP servers share.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request refused with an HTTP status and a reason for the client. */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    reason: string,
    readonly headers: Record<string, string | string[]> = {},
  ) {
    super(reason);
    this.name = 'HttpRefusal';
  }
}

/**
 * Reads the body as UTF-8 text.
 * @throws HttpRefusal 413 when it is larger than `maxBytes` (the rest is not read; the connection closes after the answer).
 */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    request.resume();
    return Promise.reject(new HttpRefusal(413, `the body is larger than ${maxBytes} bytes`, { connection: 'close' }));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    request.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        request.pause();
        reject(new HttpRefusal(413, `the body is larger than ${maxBytes} bytes`, { connection: 'close' }));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', (error) => {
      if (done) return;
      done = true;
      reject(error);
    });
    request.on('close', () => {
      if (done) return;
      done = true;
      reject(new HttpRefusal(400, 'the request ended before its body'));
    });
  });
}

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

/** Sends a response (a text reason for errors), unless one was sent already. */
export function send(response: ServerResponse, status: number, headers: Record<string, string | string[] | number>, body = ''): void {
  if (response.headersSent || response.destroyed) return;
  const all: Record<string, string | string[] | number> = { ...headers };
  if (body !== '' && all['content-type'] === undefined) all['content-type'] = 'text/plain; charset=utf-8';
  all['content-length'] = Buffer.byteLength(body);
  response.writeHead(status, all);
  response.end(body);
}
