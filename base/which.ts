/** Finding a program as a shell would: PATH lookup, executable regular files only. */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path `name` runs from: PATH lookup, or a path with a slash checked as is. Empty PATH entries are skipped. */
export function which(name: string): string | null {
  if (name === '') return null;
  if (name.includes('/')) return isExecutableFile(name) ? resolve(name) : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return resolve(candidate);
  }
  return null;
}
