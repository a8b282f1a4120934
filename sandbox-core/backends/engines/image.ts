/**
 * The engine image the sandboxes run: the busybox rootfs the project builds
 * (images/busybox-rootfs.ts, which the runc backend uses as it is) imported
 * with `<engine> import` under a tag named for the rootfs's cache key. No
 * registry is involved, and a rootfs that changes gets a new tag.
 */
import { execa } from 'execa';
import { readRootfsManifest } from '../../images/busybox-rootfs.ts';
import { firstLine, runEngine } from './engine.ts';

const AGENT_IMAGE_REPOSITORY = 'rigor/busybox-agent';

function agentImageTag(rootfsKey: string): string {
  return `${AGENT_IMAGE_REPOSITORY}:${rootfsKey}`;
}

/** The tag of `rootfs` imported into the engine behind `cli`, importing it when the engine does not have it yet. */
export async function ensureAgentImage(cli: string, rootfs: string): Promise<string> {
  const tag = agentImageTag((await readRootfsManifest(rootfs)).key);
  if ((await runEngine(cli, ['image', 'inspect', '--format', '{{.Id}}', tag])).ok) return tag;
  // files owned by root inside, whoever built the rootfs
  // the archive streams through and is never buffered: an error must not carry it
  const tar = execa('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-c', '.'], { stdin: 'ignore', buffer: false, reject: false });
  const imported = await tar.pipe(cli, ['import', '-', tag], { reject: false });
  if (imported.exitCode !== 0) {
    throw new Error(`${cli} import of ${rootfs} as ${tag} failed: ${firstLine(String(imported.stderr)) || imported.shortMessage}`);
  }
  return tag;
}
