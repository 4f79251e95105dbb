// One HTTP request of a WHIP/WHEP client, over Node's fetch: a timeout, 307/308
// redirects followed with method and body kept (other redirects refused), and
// every failure turned into a typed error naming the status and the server's reason.
import type { HttpSessionError, HttpSessionErrorKind } from './errors.js';

/** Builds the protocol's error class (WhipError, WhepError). */
export type ErrorFactory = (details: { kind: HttpSessionErrorKind; status?: number | null; reason: string; method: string; url: string }) => HttpSessionError;

export interface HttpRequest {
  method: 'POST' | 'PATCH' | 'DELETE' | 'OPTIONS';
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Milliseconds for the whole exchange, redirects included. */
  timeout: number;
  /** Bearer token: sent to the first URL's origin only, never to another origin a redirect leads to. */
  token?: string;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: string;
  /** The URL that answered (after redirects): relative Location headers resolve against it. */
  url: string;
}

const MAX_REDIRECTS = 5;
const MAX_REASON = 300;

/** Removes credentials from a URL for messages. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** The server's reason for an error status: its (short) body, or the status text. */
function reasonOf(response: Response, body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  if (text !== '' && !/^<(!doctype|html)/i.test(text)) return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON)}…` : text;
  return response.statusText || `HTTP ${response.status}`;
}

/**
 * Sends one request; resolves with any response whose status is below 300
 * (and, with `acceptErrors`, any status), rejects with the factory's error otherwise.
 */
export async function sendRequest(request: HttpRequest, makeError: ErrorFactory, acceptErrors = false): Promise<HttpResponse> {
  const signal = AbortSignal.timeout(request.timeout);
  let url = request.url;
  const origin = new URL(url).origin;
  for (let redirects = 0; ; redirects++) {
    const headers: Record<string, string> = { ...request.headers };
    if (request.token !== undefined && new URL(url).origin === origin) headers.authorization = `Bearer ${request.token}`;
    let response: Response;
    let body: string;
    try {
      response = await fetch(url, { method: request.method, headers, body: request.body, redirect: 'manual', signal });
      body = await response.text();
    } catch (error) {
      const timedOut = signal.aborted;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = timedOut ? `no answer within ${request.timeout} ms` : (cause?.code ?? cause?.message ?? (error as Error).message);
      throw makeError({ kind: timedOut ? 'timeout' : 'network', reason, method: request.method, url: displayUrl(url) });
    }
    if (response.status === 307 || response.status === 308) {
      const location = response.headers.get('location');
      if (location === null) throw makeError({ kind: 'protocol', status: response.status, reason: 'a redirect without a Location header', method: request.method, url: displayUrl(url) });
      if (redirects >= MAX_REDIRECTS) throw makeError({ kind: 'protocol', status: response.status, reason: `more than ${MAX_REDIRECTS} redirects`, method: request.method, url: displayUrl(url) });
      url = new URL(location, url).toString();
      continue;
    }
    if (response.status >= 300 && !acceptErrors) {
      const reason = response.status < 400 ? `a ${response.status} redirect, which would turn ${request.method} into GET (only 307 and 308 are followed)` : reasonOf(response, body);
      throw makeError({ kind: 'http', status: response.status, reason, method: request.method, url: displayUrl(url) });
    }
    return { status: response.status, headers: response.headers, body, url };
  }
}
