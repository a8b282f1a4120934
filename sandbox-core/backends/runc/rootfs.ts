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
import { chmod, copyFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkReachable } from '../../isolation/reachable.ts';
import { ensureCachedDir } from '../../../base/cache.ts';
import { readRootfsManifest } from '../../images/busybox-rootfs.ts';

/** Parent of the staged copies: <STAGE_ROOT>/<rootfs key>/rootfs. */
export const STAGE_ROOT = '/run/rigor/stage/rootfs';

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
  await checkReachable(join(rootfs, '.'), `runc rootfs ${rootfs}`);
  return rootfs;
}
