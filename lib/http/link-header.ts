// ICE servers in HTTP Link headers (RFC 9725 section 4.6):
//   Link: <turn:turn.example.invalid?transport=udp>; rel="ice-server"; username="user"; credential="pass"; credential-type="password"
import type { IceServer } from '../core/types.js';

/** One link of a Link header: its target and its parameters (names in lower case). */
interface Link {
  target: string;
  params: Record<string, string>;
}

/** Splits Link header values into links; quoted strings may hold commas and semicolons. */
function parseLinks(values: string[]): Link[] {
  const links: Link[] = [];
  for (const value of values) {
    let i = 0;
    while (i < value.length) {
      const open = value.indexOf('<', i);
      if (open < 0) break;
      const close = value.indexOf('>', open);
      if (close < 0) break;
      const link: Link = { target: value.slice(open + 1, close).trim(), params: {} };
      i = close + 1;
      // Parameters until the next top-level comma.
      while (i < value.length) {
        while (i < value.length && /[\s;]/.test(value[i])) i++;
        if (i >= value.length || value[i] === ',') break;
        const nameMatch = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*/.exec(value.slice(i));
        if (nameMatch === null) {
          i++;
          continue;
        }
        const name = nameMatch[1].toLowerCase();
        i += nameMatch[0].length;
        let paramValue = '';
        if (value[i] === '=') {
          i++;
          while (value[i] === ' ') i++;
          if (value[i] === '"') {
            i++;
            while (i < value.length && value[i] !== '"') {
              if (value[i] === '\\' && i + 1 < value.length) i++;
              paramValue += value[i++];
            }
            i++;
          } else {
            const token = /^[^\s;,]*/.exec(value.slice(i))![0];
            paramValue = token;
            i += token.length;
          }
        }
        if (!(name in link.params)) link.params[name] = paramValue;
      }
      if (value[i] === ',') i++;
      links.push(link);
    }
  }
  return links;
}

/**
 * The ICE servers a WHIP/WHEP server announces in `Link` headers with
 * `rel="ice-server"`, TURN username and credential included. Links of other
 * relations and URLs that are not stun:/turn:/turns: are skipped.
 */
export function iceServersFromLinkHeaders(values: string | string[] | null | undefined): IceServer[] {
  if (values === null || values === undefined) return [];
  const list = Array.isArray(values) ? values : [values];
  const servers: IceServer[] = [];
  for (const link of parseLinks(list)) {
    const relations = (link.params.rel ?? '').toLowerCase().split(/\s+/);
    if (!relations.includes('ice-server')) continue;
    if (!/^(stun|stuns|turn|turns):/i.test(link.target)) continue;
    const server: IceServer = { urls: link.target };
    if (link.params.username !== undefined) server.username = link.params.username;
    if (link.params.credential !== undefined) server.credential = link.params.credential;
    servers.push(server);
  }
  return servers;
}

function quote(text: string): string {
  return `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** Link header values for ICE servers, one per URL (what a WHIP/WHEP server sends). */
export function iceServersToLinkHeaders(servers: readonly IceServer[] | undefined): string[] {
  const values: string[] = [];
  for (const server of servers ?? []) {
    const urls = typeof server.urls === 'string' ? [server.urls] : server.urls;
    for (const url of urls) {
      let value = `<${url}>; rel="ice-server"`;
      if (/^turns?:/i.test(url) && server.username !== undefined && server.credential !== undefined) {
        value += `; username=${quote(server.username)}; credential=${quote(server.credential)}; credential-type="password"`;
      }
      values.push(value);
    }
  }
  return values;
}
