// A network namespace joined to this one by a veth pair with addresses from
// 198.18.0.0/15 (the benchmarking range: never routed off this machine). A
// server started inside it (coturn, say) is reachable from here only through
// the pair. remove() deletes the namespace and with it the pair; an exit hook
// does the same when the test process ends without cleaning up.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomInt } from 'node:crypto';

export interface Namespace {
  name: string;
  /** Our end of the pair (in this process's namespace), e.g. 198.18.7.1. */
  hostAddress: string;
  /** The namespace's end of the pair, e.g. 198.18.7.2. */
  address: string;
  /** Spawns a command inside the namespace. */
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** Runs a command inside the namespace and returns its stdout. */
  run(command: string, args: string[]): string;
  remove(): void;
}

const live = new Set<string>();
/** Subnets handed out by this process, taken even before their addresses are on a link. */
const reserved = new Set<string>();
process.once('exit', () => {
  for (const name of live) removeNamespace(name);
});

function removeNamespace(name: string): void {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  } catch {
    // already gone
  }
  live.delete(name);
}

/** Namespaces `<prefix>-<pid>-<id>` left behind by test processes that were killed (no exit hook ran). */
function removeOrphans(prefix: string): void {
  let names: string[] = [];
  try {
    names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((line) => line.split(' ')[0]);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(new RegExp(`^${prefix}-(\\d+)-[0-9a-f]+$`).exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      removeNamespace(name); // its process is gone
    }
  }
}

/**
 * Creates the namespace and the pair; throws (leaving nothing behind) when `ip`
 * cannot. With `veth: false` the namespace gets no pair, only its pair of
 * addresses: the caller joins it some other way (shaped-link.ts, with tun devices).
 */
export function createNamespace(prefix = 'gwn', { veth = true }: { veth?: boolean } = {}): Namespace {
  removeOrphans(prefix);
  const id = randomInt(0, 0xffffff).toString(16).padStart(6, '0');
  const name = `${prefix}-${process.pid}-${id}`;
  // 198.18.0.0/15 in /24s (198.18.0 .. 198.19.255), avoiding those already on this machine's links.
  const taken = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' }) + [...reserved].map((base) => ` ${base}.`).join('');
  let base: string;
  do {
    const subnet = randomInt(0, 512);
    base = `198.${18 + (subnet >> 8)}.${subnet & 0xff}`;
  } while (taken.includes(` ${base}.`));
  reserved.add(base);
  const [hostAddress, address] = [`${base}.1`, `${base}.2`];
  const [hostEnd, innerEnd] = [`${prefix}${id}h`, `${prefix}${id}n`];
  live.add(name);
  try {
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    ip('netns', 'add', name);
    if (veth) {
      ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', innerEnd);
      ip('link', 'set', innerEnd, 'netns', name);
      ip('addr', 'add', `${hostAddress}/24`, 'dev', hostEnd);
      ip('link', 'set', hostEnd, 'up');
      ip('-n', name, 'addr', 'add', `${address}/24`, 'dev', innerEnd);
      ip('-n', name, 'link', 'set', innerEnd, 'up');
    }
    ip('-n', name, 'link', 'set', 'lo', 'up');
    // A process started in a fresh namespace may see only lo until something has listed its links.
    ip('-n', name, 'link', 'show');
  } catch (error) {
    try {
      execFileSync('ip', ['link', 'del', hostEnd], { stdio: 'ignore' });
    } catch {
      // the pair was not created, or went with the namespace
    }
    removeNamespace(name);
    throw error;
  }
  return {
    name,
    hostAddress,
    address,
    spawn: (command, args, options = {}) => spawn('ip', ['netns', 'exec', name, command, ...args], options),
    run: (command, args) => execFileSync('ip', ['netns', 'exec', name, command, ...args], { encoding: 'utf8' }),
    remove: () => removeNamespace(name),
  };
}

/** Whether this machine lets the tests create network namespaces (root, iproute2). */
export function namespacesAvailable(): boolean {
  try {
    const probe = createNamespace('gwnp');
    probe.remove();
    return true;
  } catch {
    return false;
  }
}
