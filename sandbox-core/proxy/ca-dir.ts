/** Where the interception CA lives by default (its own module: sandboxes hide it without loading the X.509 code). */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultCaDir(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'rigor', 'ca');
}
