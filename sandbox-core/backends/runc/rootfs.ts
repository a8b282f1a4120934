/**
 * The rootfs as the container's mapped root can reach it. runc pivots into
 * the rootfs from inside the container's user namespace, as a host uid that
 * owns nothing: every directory on the way must be searchable by others. The
 * build cache is not (it sits under ~/.cache, /root is 0700, and each key
 * directory is a 0700 mkdtemp), so the backend copies the built tree (busybox,
 * the agent, links and /etc: a few MiB) once per key into STAGE_ROOT, owned by
 * root, searchable and never writable by anyone else; containers mount that
 * copy read-only. Files stay owned by host root: inside they show as nobody,
 * readable and executable by mode, and writable by no one.
 */
import { execa } from 'execa';
import { chmod, copyFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ensureCachedDir } from '../../../runner/native/cache.ts';
import { readRootfsManifest } from '../../images/busybox-rootfs.ts';

/** Parent of the staged copies: <STAGE_ROOT>/<rootfs key>/rootfs. */
export const STAGE_ROOT = '/run/rigor-runc/rootfs';

/** A copy of `built` (a buildBusyboxRootfs() path) every uid can search down to; made once per rootfs key. */
export async function stageRootfs(built: string, stageRoot = STAGE_ROOT): Promise<string> {
  const { key } = await readRootfsManifest(built);
  const target = await ensureCachedDir(stageRoot, key, async (temp) => {
    await chmod(temp, 0o755);
    // -a: links stay links, modes stay modes (busybox and the agent 0755, /tmp 1777)
    await execa('cp', ['-a', '--', built, join(temp, 'rootfs')], { stdin: 'ignore' });
    // written last: a staged dir holding a manifest is complete
    await copyFile(join(dirname(built), 'manifest.json'), join(temp, 'manifest.json'));
  });
  const rootfs = join(target, 'rootfs');
  await checkSearchable(rootfs);
  return rootfs;
}

/** Throws naming the first directory from / down to `path` that is not root-owned, searchable by others and closed to writers. */
export async function checkSearchable(path: string): Promise<void> {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const entry = await stat(dir);
    const mode = entry.mode & 0o7777;
    if (!(mode & 0o001)) throw new Error(`runc rootfs ${path}: ${dir} (mode ${mode.toString(8)}) is not searchable by the container's mapped root`);
    // a directory anyone else may write could have the rootfs swapped under it
    if (entry.uid !== 0 || (mode & 0o022 && !(mode & 0o1000))) {
      throw new Error(`runc rootfs ${path}: ${dir} must be owned by root and writable by nobody else (uid ${entry.uid}, mode ${mode.toString(8)})`);
    }
    if (dir === '/') return;
  }
}
