// What WhipClient and WhepClient share: the client side of an HTTP-negotiated
// WebRTC session (RFC 9725 and WHEP). POST the offer, apply the answer, trickle
// later candidates with PATCH, DELETE the resource on close.
import { toWebRtcBinIceServers } from '../core/ice-servers.js';
import { SafeEmitter, type ListenerErrorEvent } from '../core/safe-emitter.js';
import type { IceCandidate, IceServer } from '../core/types.js';
import type { WebRtcBin } from '../core/webrtcbin.js';
import type { HttpSessionError } from './errors.js';
import { sendRequest, type ErrorFactory, type HttpRequest } from './http-request.js';
import { iceServersFromLinkHeaders } from './link-header.js';
import { completeLocalSdp, iceCredentials, mediaSections, normalizeRemoteSdp } from './session-sdp.js';
import { buildTrickleFragment, TRICKLE_ICE_SDPFRAG, type FragmentMedia } from './trickle-fragment.js';

/** Options of WhipClient and WhepClient. */
export interface HttpSessionClientOptions {
  /** Sent as `Authorization: Bearer <token>` (to the endpoint's origin only). */
  token?: string;
  /** More request headers, e.g. a cookie. */
  headers?: Record<string, string>;
  /** Milliseconds each HTTP exchange may take, redirects included. Default 10000. */
  timeout?: number;
  /**
   * How local ICE candidates reach the server.
   * - `'auto'` (default): wait up to `gatheringTimeout` (default 1000 ms) so the
   *   offer carries the candidates gathered by then; send later ones with PATCH
   *   when the server accepts it, else leave them out without failing.
   * - `true`: POST the offer at once and send every candidate with PATCH.
   * - `false`: wait until gathering completes (up to `gatheringTimeout`, default
   *   10000 ms) and never PATCH, as OBS does.
   */
  trickle?: boolean | 'auto';
  /** See `trickle`. */
  gatheringTimeout?: number;
  /**
   * Before the offer, ask the endpoint (OPTIONS) for its ICE servers (`Link:
   * rel="ice-server"`, TURN credentials included) and give them to a WebRtcBin
   * that has none configured: webrtcbin 1.22 uses ICE servers only for the
   * gathering that follows, so those in the POST response come too late to be
   * used (they are still reported in `iceServers`). Default true.
   */
  discoverIceServers?: boolean;
}

/** Events of WhipClient and WhepClient. */
export interface HttpSessionClientEvents extends ListenerErrorEvent {
  /** The server refused trickle ICE (405/501 to PATCH, or no Accept-Patch): later candidates are not sent, the session goes on. */
  tricklefallback: [reason: string];
  /** Something failed without ending the session (a PATCH, the DELETE on close). */
  warning: [error: HttpSessionError];
  /** close() ran. */
  close: [];
}

/** What a session client knows once the server answered. */
interface Resource {
  url: string | null;
  etag: string | null;
  trickle: boolean;
}

/** @internal The shared client; see WhipClient and WhepClient. */
export abstract class HttpSessionClient<Events extends HttpSessionClientEvents & { [K in keyof Events]: unknown[] } = HttpSessionClientEvents> extends SafeEmitter<Events> {
  /** The endpoint URL the offer is POSTed to. */
  readonly endpoint: string;
  /** ICE servers the server announced in `Link` headers (`rel="ice-server"`), TURN credentials included. */
  iceServers: IceServer[] = [];
  protected readonly options: Required<Pick<HttpSessionClientOptions, 'timeout'>> & HttpSessionClientOptions;
  protected webrtcbin: WebRtcBin | null = null;
  private resource: Resource | null = null;
  private readonly unsent: IceCandidate[] = [];
  private gatheringEnded = false;
  private endSent = false;
  private patchChain: Promise<void> = Promise.resolve();
  private flushScheduled = false;
  private closing: Promise<void> | null = null;
  private detach: (() => void) | null = null;

  protected constructor(
    endpoint: string,
    options: HttpSessionClientOptions,
    private readonly makeError: ErrorFactory,
  ) {
    super();
    if (typeof endpoint !== 'string' && !((endpoint as unknown) instanceof URL)) throw new TypeError('the endpoint must be an http: or https: URL');
    let parsed: URL;
    try {
      parsed = new URL(String(endpoint));
    } catch {
      throw new TypeError(`not a URL: ${JSON.stringify(String(endpoint))}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`the endpoint must be an http: or https: URL, not ${parsed.protocol}`);
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const timeout = options.timeout ?? 10_000;
    if (!Number.isInteger(timeout) || timeout <= 0) throw new TypeError('timeout must be a positive integer (milliseconds)');
    if (options.gatheringTimeout !== undefined && (!Number.isInteger(options.gatheringTimeout) || options.gatheringTimeout < 0)) throw new TypeError('gatheringTimeout must be a non-negative integer (milliseconds)');
    if (options.trickle !== undefined && options.trickle !== true && options.trickle !== false && options.trickle !== 'auto') throw new TypeError("trickle must be true, false or 'auto'");
    if (options.discoverIceServers !== undefined && typeof options.discoverIceServers !== 'boolean') throw new TypeError('discoverIceServers must be a boolean');
    if (options.token !== undefined && (typeof options.token !== 'string' || /[\r\n]/.test(options.token))) throw new TypeError('token must be a string without line breaks');
    this.endpoint = parsed.toString();
    this.options = { ...options, timeout };
  }

  /** The session's resource URL (the server's `Location`, made absolute), or null before the server answered or when it gave none. */
  get resourceUrl(): string | null {
    return this.resource?.url ?? null;
  }

  /** The resource's `ETag`, sent as `If-Match` with each PATCH. */
  get etag(): string | null {
    return this.resource?.etag ?? null;
  }

  /** Whether later candidates are sent with PATCH (false before the answer, after a fallback, or with `trickle: false`). */
  get trickling(): boolean {
    return this.resource?.trickle ?? false;
  }

  /** Whether close() has run. */
  get closed(): boolean {
    return this.closing !== null;
  }

  /**
   * Offers `webrtcbin`'s media to the server and applies its answer.
   * @throws the protocol's HttpSessionError (WhipError/WhepError) for a refused or failed exchange.
   */
  protected async negotiate(webrtcbin: WebRtcBin): Promise<void> {
    this.webrtcbin = webrtcbin;
    const gathered: IceCandidate[] = [];
    let snapshotTaken = false;
    const onCandidate = (candidate: IceCandidate | null) => {
      if (candidate === null || candidate.candidate === '') {
        this.gatheringEnded = true;
        if (snapshotTaken) this.scheduleFlush();
        return;
      }
      if (snapshotTaken) {
        this.unsent.push(candidate);
        this.scheduleFlush();
      } else gathered.push(candidate);
    };
    webrtcbin.on('icecandidate', onCandidate);
    this.detach = () => webrtcbin.off('icecandidate', onCandidate);

    if (this.options.discoverIceServers !== false) await this.discoverIceServers(webrtcbin);
    this.assertNotClosed();
    const offer = await webrtcbin.createOffer();
    await webrtcbin.setLocalDescription(offer);
    const trickle = this.options.trickle ?? 'auto';
    const wait = trickle === true ? 0 : (this.options.gatheringTimeout ?? (trickle === 'auto' ? 1000 : 10_000));
    await waitForGathering(webrtcbin, wait, () => this.gatheringEnded);
    this.assertNotClosed();
    snapshotTaken = true;
    const local = webrtcbin.localDescription;
    if (local === null) throw this.makeError({ kind: 'protocol', reason: 'the WebRtcBin has no local description', method: 'POST', url: this.endpoint });
    const offerSdp = completeLocalSdp(local.sdp, gathered, this.gatheringEnded);

    const response = await sendRequest(this.request('POST', this.endpoint, { 'content-type': 'application/sdp', accept: 'application/sdp' }, offerSdp), this.makeError);
    const contentType = response.headers.get('content-type') ?? '';
    if (!/^application\/sdp\b/i.test(contentType) || !response.body.startsWith('v=0')) {
      throw this.makeError({ kind: 'protocol', status: response.status, reason: `the answer is not application/sdp (Content-Type: ${contentType || 'none'})`, method: 'POST', url: response.url });
    }
    const location = response.headers.get('location');
    const acceptPatch = (response.headers.get('accept-patch') ?? '').toLowerCase();
    const announced = iceServersFromLinkHeaders(response.headers.get('link')?.split(/,(?=\s*<)/));
    if (announced.length > 0) this.iceServers = announced;
    const canTrickle = trickle !== false && location !== null && acceptPatch.includes(TRICKLE_ICE_SDPFRAG);
    this.resource = { url: location === null ? null : new URL(location, response.url).toString(), etag: response.headers.get('etag'), trickle: canTrickle };
    if (this.closing !== null) {
      // close() ran during the POST: the resource exists now, so delete it.
      await this.deleteResource();
      this.assertNotClosed();
    }
    try {
      await webrtcbin.setRemoteDescription({ type: 'answer', sdp: normalizeRemoteSdp(response.body) });
    } catch (error) {
      throw this.makeError({ kind: 'protocol', status: response.status, reason: `the answer was refused: ${(error as Error).message}`, method: 'POST', url: response.url });
    }
    if (trickle !== false && !canTrickle) {
      this.notify('tricklefallback', location === null ? 'the server gave no Location' : 'the server does not accept trickle ICE (no Accept-Patch: application/trickle-ice-sdpfrag)');
    }
    if (canTrickle) this.scheduleFlush();
  }

  /**
   * OPTIONS to the endpoint; the ICE servers of its Link headers go to a
   * WebRtcBin without ICE servers of its own (webrtcbin holds one STUN and one
   * TURN server in its properties). A server without OPTIONS is no error.
   */
  private async discoverIceServers(webrtcbin: WebRtcBin): Promise<void> {
    const response = await sendRequest(this.request('OPTIONS', this.endpoint, {}), this.makeError, true).catch(() => null);
    if (response === null || response.status >= 300) return;
    const servers = iceServersFromLinkHeaders(response.headers.get('link')?.split(/,(?=\s*<)/));
    if (servers.length === 0) return;
    this.iceServers = servers;
    if (webrtcbin.element.get('stun-server') != null || webrtcbin.element.get('turn-server') != null) return;
    let converted;
    try {
      converted = toWebRtcBinIceServers(servers);
    } catch {
      return; // a server webrtcbin cannot use (stuns:) is skipped, not fatal
    }
    if (converted.stun !== undefined) webrtcbin.element.set('stun-server', converted.stun);
    if (converted.turn.length > 0) webrtcbin.element.set('turn-server', converted.turn[0]);
  }

  /**
   * Ends the session: DELETE of the resource (errors become `warning` events)
   * and release of what the client made. Idempotent; resolves when done.
   */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closing = (async () => {
      this.detach?.();
      await this.patchChain.catch(() => undefined);
      await this.deleteResource();
      await this.release();
      this.notify('close');
    })();
    return this.closing;
  }

  /** Dispatches one of the shared events (the subclass's event map extends them). */
  private notify<K extends keyof HttpSessionClientEvents & string>(event: K, ...args: HttpSessionClientEvents[K]): void {
    (this as unknown as { dispatch(event: string, ...args: unknown[]): boolean }).dispatch(event, ...args);
  }

  /** Releases what the subclass created (its WebRtcBin, a fan-out viewer). */
  protected abstract release(): Promise<void>;

  private async deleteResource(): Promise<void> {
    const url = this.resource?.url;
    if (url == null) return;
    this.resource!.url = null;
    try {
      await sendRequest(this.request('DELETE', url, {}), this.makeError);
    } catch (error) {
      this.notify('warning', error as HttpSessionError);
    }
  }

  private request(method: HttpRequest['method'], url: string, headers: Record<string, string>, body?: string): HttpRequest {
    return { method, url, headers: { ...this.options.headers, ...headers }, body, timeout: this.options.timeout, token: this.options.token };
  }

  private assertNotClosed(): void {
    if (this.closing !== null) throw this.makeError({ kind: 'protocol', reason: 'the client was closed', method: 'POST', url: this.endpoint });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || !this.trickling || this.closing !== null) return;
    this.flushScheduled = true;
    // Candidates come in bursts: one PATCH for what arrived in the same turn.
    setImmediate(() => {
      this.flushScheduled = false;
      this.patchChain = this.patchChain.then(() => this.flush()).catch(() => undefined);
    });
  }

  private async flush(): Promise<void> {
    const resource = this.resource;
    const local = this.webrtcbin?.localDescription;
    if (resource === null || resource.url === null || !resource.trickle || local == null || this.closing !== null) return;
    const candidates = this.unsent.splice(0);
    const end = this.gatheringEnded && !this.endSent;
    if (candidates.length === 0 && !end) return;
    const { ufrag, pwd } = iceCredentials(local.sdp);
    const sections = mediaSections(local.sdp);
    const media: FragmentMedia[] = sections
      .map((section, index) => ({
        ...section,
        candidates: candidates.filter((c) => (c.sdpMid != null && section.mid !== null ? c.sdpMid === section.mid : c.sdpMLineIndex === index)).map((c) => c.candidate),
        // With BUNDLE, end-of-candidates goes with the first m-line.
        endOfCandidates: end && index === 0,
      }))
      .filter((section) => section.candidates.length > 0 || section.endOfCandidates);
    const headers: Record<string, string> = { 'content-type': TRICKLE_ICE_SDPFRAG };
    if (resource.etag !== null) headers['if-match'] = resource.etag;
    const response = await sendRequest(this.request('PATCH', resource.url, headers, buildTrickleFragment(ufrag, pwd, media)), this.makeError, true).catch((error: HttpSessionError) => {
      this.notify('warning', error);
      return null;
    });
    if (response === null) return;
    if (response.status === 405 || response.status === 501) {
      resource.trickle = false;
      this.notify('tricklefallback', `the server answered ${response.status} to PATCH`);
      return;
    }
    if (response.status >= 300) {
      this.notify('warning', this.makeError({ kind: 'http', status: response.status, reason: response.body.trim() || `HTTP ${response.status}`, method: 'PATCH', url: resource.url }));
      return;
    }
    if (end) this.endSent = true;
  }
}

/** Resolves once gathering completes, or after `timeoutMs`. */
function waitForGathering(webrtcbin: WebRtcBin, timeoutMs: number, ended: () => boolean): Promise<void> {
  if (timeoutMs === 0 || ended() || webrtcbin.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      webrtcbin.off('icegatheringstatechange', check);
      webrtcbin.off('icecandidate', check);
      webrtcbin.off('close', done);
      resolve();
    };
    const check = () => {
      if (ended() || webrtcbin.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs);
    webrtcbin.on('icegatheringstatechange', check);
    webrtcbin.on('icecandidate', check);
    webrtcbin.on('close', done);
  });
}
