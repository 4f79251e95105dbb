// Headless Chromium from the distribution (Debian's `chromium` package), driven by
// playwright-core, with a fake camera and microphone and its default privacy
// settings: host candidates are mDNS `.local` names, as for real users.
//
// No --use-fake-ui-for-media-stream: it grants the camera to every page, and
// Chromium shows its real host addresses, not mDNS names, to a page that may use
// the camera. allowCamera() grants it when a test wants it, like a user clicking
// "Allow".
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Where Debian's `chromium` package installs the browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const FLAGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
];

export interface Chromium {
  /** A browser context with a fresh, empty profile. */
  context: BrowserContext;
  /** Closes the browser and deletes its profile. */
  close(): Promise<void>;
}

/** What a test may change about the browser it starts. */
export interface ChromiumOptions {
  /** Another executable that runs Chromium (e.g. a wrapper that enters a network namespace). */
  executablePath?: string;
  /** More flags; one naming a flag of ours with a value (`--use-fake-device-for-media-stream=fps=30`) replaces ours. */
  args?: string[];
}

/** Starts headless Chromium with a fresh profile; throws with the install command when it is missing. */
export async function launchChromium(options: ChromiumOptions = {}): Promise<Chromium> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM_PATH}: run "sh scripts/setup.sh" (it installs scripts/debian-packages-dev.txt) or "apt-get install chromium"`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'gst-webrtc-node-chromium-'));
  // Chromium's sandbox does not run as root.
  const sandbox = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  const extra = options.args ?? [];
  const flags = FLAGS.filter((flag) => !extra.some((arg) => arg.startsWith(`${flag}=`)));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: options.executablePath ?? CHROMIUM_PATH,
      headless: true,
      args: [...sandbox, ...flags, ...extra],
      timeout: 20_000,
    });
    return {
      context,
      async close() {
        await context.close().catch(() => undefined);
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}

/** Lets pages of `origin` use the (fake) camera and microphone without asking. */
export async function allowCamera(context: BrowserContext, origin: string): Promise<void> {
  await context.grantPermissions(['camera', 'microphone'], { origin });
}
