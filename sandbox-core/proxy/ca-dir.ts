/** Where the interception CA lives by default (its own module: sandboxes hide it without loading the X.509 code). */
import { join } from 'node:path';
import { defaultCacheRoot } from '../../base/cache.ts';

export function defaultCaDir(): string {
  return join(defaultCacheRoot(), 'rigor', 'ca');
}
