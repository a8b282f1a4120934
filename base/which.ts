/** Finding a program as a shell would: PATH lookup, executable regular files only. */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export interface WhichOptions {
  /** The PATH to search; default this process's. */
  path?: string;
  /** The directory a relative name or PATH entry is taken from (where the program will run); default this process's. */
  cwd?: string;
}

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
export function which(name: string, options: WhichOptions = {}): string | null {
  if (name === '') return null;
  const cwd = options.cwd ?? process.cwd();
  if (name.includes('/')) {
    const path = resolve(cwd, name);
    return isExecutableFile(path) ? path : null;
  }
  for (const dir of (options.path ?? process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = resolve(cwd, join(dir, name));
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

const found = new Map<string, string>();

/**
 * which(name) on this process's PATH, remembered once found: a launcher
 * spawned on every create() is looked up once per process instead of by
 * execvp walking the PATH in each child. A name not found is looked up again
 * on the next call.
 */
export function whichOnce(name: string): string | null {
  const known = found.get(name);
  if (known !== undefined) return known;
  const path = which(name);
  if (path !== null) found.set(name, path);
  return path;
}
