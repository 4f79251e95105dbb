// RTCConfiguration.iceServers -> webrtcbin's stun-server / turn-server URIs.
import type { IceServer } from './types.js';

export interface WebRtcBinIceServers {
  /** `stun://host:port`; webrtcbin takes at most one. */
  stun?: string;
  /** `turn(s)://user:pass@host:port?transport=...`, each added with add-turn-server. */
  turn: string[];
}

const URL_PATTERN = /^(stun|stuns|turn|turns):(\[[0-9a-fA-F:.]+\]|[^\s:?/[\]]+)(?::(\d{1,5}))?(\?transport=(udp|tcp))?$/;

/** Converts W3C ice servers; throws TypeError for anything it cannot represent. */
export function toWebRtcBinIceServers(servers: unknown): WebRtcBinIceServers {
  const result: WebRtcBinIceServers = { turn: [] };
  if (servers === undefined) return result;
  if (!Array.isArray(servers)) throw new TypeError('iceServers must be an array');
  for (const server of servers as IceServer[]) {
    if (typeof server !== 'object' || server === null) throw new TypeError('each ice server must be an object { urls, username?, credential? }');
    const urls = typeof server.urls === 'string' ? [server.urls] : server.urls;
    if (!Array.isArray(urls) || urls.length === 0 || urls.some((url) => typeof url !== 'string')) throw new TypeError('ice server urls must be a string or an array of strings');
    for (const url of urls) {
      const match = URL_PATTERN.exec(url);
      if (match === null) throw new TypeError(`not a stun:, turn: or turns: URL: ${JSON.stringify(url)}`);
      const [, scheme, host, port, query] = match;
      if (scheme === 'stun' || scheme === 'stuns') {
        if (scheme === 'stuns') throw new TypeError('stuns: URLs are not supported by webrtcbin');
        result.stun ??= `stun://${host}:${port ?? '3478'}`;
        continue;
      }
      if (typeof server.username !== 'string' || typeof server.credential !== 'string') throw new TypeError(`${url} needs a username and a credential`);
      const auth = `${encodeURIComponent(server.username)}:${encodeURIComponent(server.credential)}`;
      result.turn.push(`${scheme}://${auth}@${host}:${port ?? (scheme === 'turns' ? '5349' : '3478')}${query ?? ''}`);
    }
  }
  return result;
}
