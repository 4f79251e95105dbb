// Makes `npx vitest` work on its own too: builds what is missing (fast when nothing is).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  execFileSync('sh', [join(__dirname, '../../scripts/setup.sh'), '--dev'], { stdio: 'inherit' });
}
