/**
 * The engine image the sandboxes run: the busybox rootfs the project builds
 * (images/busybox-rootfs.ts, which the runc backend uses as it is) imported
 * with `<engine> import` under a tag named for the rootfs's cache key. No
 * registry is involved, and a rootfs that changes gets a new tag.
 */
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { readRootfsManifest } from '../../images/busybox-rootfs.ts';
import { cliArgs, connectionEnv, firstLine, runEngine, type EngineConnection } from './engine.ts';

const AGENT_IMAGE_REPOSITORY = 'rigor/busybox-agent';
/** Bumped when the import changes what the image holds beyond the rootfs. */
const IMPORT_VERSION = 2;

function agentImageTag(rootfsKey: string): string {
  return `${AGENT_IMAGE_REPOSITORY}:${rootfsKey}-${IMPORT_VERSION}`;
}

/** The tag of `rootfs` imported into the engine, importing it when the engine does not have it yet (once per data root). */
export async function ensureAgentImage(connection: EngineConnection, rootfs: string): Promise<string> {
  const tag = agentImageTag((await readRootfsManifest(rootfs)).key);
  if ((await runEngine(connection, ['image', 'inspect', '--format', '{{.Id}}', tag])).ok) return tag;
  // The workspace mount point is 1777 in the image: podman 4.3 gives a tmpfs over an image directory that
  // directory's mode (its own mode= is ignored there, uid= refused), and the commands' user must write it.
  const stage = await mkdtemp(join(tmpdir(), 'rigor-image-'));
  try {
    await mkdir(join(stage, 'ws'));
    await chmod(join(stage, 'ws'), 0o1777);
    // files owned by root inside, whoever built the rootfs
    const tarArgs = ['--numeric-owner', '--owner=0', '--group=0', '--exclude=./workspace', '--transform=s,^\\./ws$,./workspace,', '-c', '-C', rootfs, '.', '-C', stage, './ws'];
    // the archive streams through and is never buffered: an error must not carry it
    const tar = execa('tar', tarArgs, { stdin: 'ignore', buffer: false, reject: false });
    const imported = await tar.pipe(connection.cli, cliArgs(connection, ['import', '-', tag]), { reject: false, env: connectionEnv(connection), extendEnv: false });
    if (imported.exitCode !== 0) {
      throw new Error(`${connection.cli} import of ${rootfs} as ${tag} failed: ${firstLine(String(imported.stderr)) || imported.shortMessage}`);
    }
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
  return tag;
}
