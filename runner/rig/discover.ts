/** Finding rig files: `rigs/<name>.rig.yaml`. */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError } from '../../base/errors.ts';
import { didYouMean } from './suggest.ts';

export const RIG_SUFFIX = '.rig.yaml';

/** `rigs/*.rig.yaml`, sorted; none when the folder does not exist. */
export function listRigFiles(dir = 'rigs'): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith(RIG_SUFFIX))
    .sort()
    .map((file) => join(dir, file));
}

/** The rig name a file stands for: `rigs/startup.rig.yaml` → `startup`. */
export function rigNameOf(path: string): string {
  return basename(path, RIG_SUFFIX);
}

/** "startup" → rigs/startup.rig.yaml; anything with a slash or a .yaml/.yml ending is a path, used as is. */
export function resolveRigPath(nameOrPath: string, dir = 'rigs'): string {
  const isPath = nameOrPath.includes('/') || /\.ya?ml$/.test(nameOrPath);
  const path = isPath ? nameOrPath : join(dir, `${nameOrPath}${RIG_SUFFIX}`);
  if (existsSync(path)) return path;
  const names = listRigFiles(dir).map(rigNameOf);
  const available = names.length ? `rigs in ${dir}/: ${names.join(', ')}` : `there are no rigs in ${dir}/`;
  const what = isPath ? `no rig file at ${path}` : `no rig named "${nameOrPath}" (looked for ${path})`;
  throw new InputError(`${what}${isPath ? '' : didYouMean(nameOrPath, names)}; ${available}`);
}
