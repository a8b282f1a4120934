/**
 * A gvisor snapshot directory's manifest.json: what saved it (runsc's
 * version and platform, the staged rootfs's key), the spec a restore gives
 * its sandbox, the agent's HELLO and next request id, and runsc's image
 * beside it with its size and sha256. runsc restores an image only into the
 * runsc that wrote it, over the root filesystem the saved Sentry had mounted:
 * checking against this host names the first field that differs.
 */
import { z } from 'zod';
import { digestSchema, manifestHeader, parseManifestWith, savedAgentSchema } from '../snapshot-manifest.ts';
import { GVISOR_PLATFORMS } from './runsc.ts';

export const SNAPSHOT_FORMAT = 'rigor-gvisor-snapshot';
export const SNAPSHOT_VERSION = 1;
/** What `runsc checkpoint --image-path` writes: the Sentry's kernel state and memory (the workspace's tmpfs with it), compressed. */
export const IMAGE_FILE = 'checkpoint.img';

const manifestSchema = z.object({
  ...manifestHeader(SNAPSHOT_FORMAT, SNAPSHOT_VERSION),
  /** `runsc --version`'s version ("0.0~20221219.0"). */
  runsc: z.string().min(1),
  platform: z.enum(GVISOR_PLATFORMS),
  /** The staged rootfs's key (busybox, the agent, links and /etc): the gofer serves it to the restored Sentry. */
  rootfs: z.string().min(1),
  spec: z.object({
    memoryMiB: z.number().int().positive().optional(),
    pidsLimit: z.number().int().positive().optional(),
    workspaceMiB: z.number().int().positive().optional(),
    workspacePath: z.string().optional(),
    seccomp: z.enum(['default', 'unconfined']).optional(),
    allowSyscalls: z.array(z.string()).optional(),
    capabilities: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).optional(),
  }),
  agent: savedAgentSchema,
  files: z.object({ image: digestSchema }),
});

export type GvisorSnapshotManifest = z.infer<typeof manifestSchema>;
export const gvisorManifestSchema: z.ZodType<GvisorSnapshotManifest> = manifestSchema;

/** The manifest in `text`, or an error naming the file, the field, what was expected and what was found. */
export function parseManifest(text: string, file: string): GvisorSnapshotManifest {
  return parseManifestWith(manifestSchema, text, file);
}

/** What this host would restore with. */
export interface GvisorRestoreTarget {
  runsc: string;
  platform: string;
  rootfs: string;
}

/** Why `manifest` cannot be restored by `target`, or undefined when it can; `dir` names the snapshot. */
export function restoreMismatch(manifest: GvisorSnapshotManifest, target: GvisorRestoreTarget, dir: string): string | undefined {
  if (manifest.runsc !== target.runsc) return `snapshot ${dir} was saved by runsc ${manifest.runsc}, this host runs runsc ${target.runsc}: runsc restores only an image of its own version`;
  if (manifest.platform !== target.platform) return `snapshot ${dir} was saved on runsc's ${manifest.platform} platform, this backend runs ${target.platform}`;
  if (manifest.rootfs !== target.rootfs) return `snapshot ${dir} was saved over rootfs ${manifest.rootfs}, this backend's is ${target.rootfs}: the restored Sentry must find the root filesystem it had mounted`;
  return undefined;
}
