// The installed version of a package in node_modules, for the figure's labels.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(join(__dirname, '../../node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}
