/**
 * A qemu snapshot directory's manifest.json: what saved it (qemu's version,
 * the guest kernel and image), how the guest was launched (machine, accel,
 * memory, kernel command line), the spec a restore gives its sandbox, the
 * agent's HELLO and next request id, and the files beside it with their
 * sizes (the device state's sha256 too). Reading it checks every field and
 * says which is wrong; checking it against this host names any mismatch,
 * because qemu loads a stream only into the same qemu, machine and guest.
 */
import { z } from 'zod';
import { digestSchema, manifestHeader, parseManifestWith, savedAgentSchema } from '../snapshot-manifest.ts';

export const SNAPSHOT_FORMAT = 'rigor-qemu-snapshot';
export const SNAPSHOT_VERSION = 1;
/** qemu's migration stream with RAM left out (x-ignore-shared): the devices' and CPU's state. */
export const STATE_FILE = 'state';
/** Guest RAM (sparse: only pages the guest touched take blocks). */
export const RAM_FILE = 'ram';

const manifestSchema = z.object({
  ...manifestHeader(SNAPSHOT_FORMAT, SNAPSHOT_VERSION),
  /** `qemu-system-x86_64 --version`'s first line. */
  qemu: z.string().min(1),
  kernel: z.object({ version: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  /** The guest image's cache key (kernel, modules, agent, rootfs). */
  image: z.string().min(1),
  machine: z.enum(['microvm', 'pc']),
  accel: z.enum(['kvm', 'tcg']),
  memory_mib: z.number().int().positive(),
  append: z.string(),
  spec: z.object({
    memoryMiB: z.number().int().positive().optional(),
    pidsLimit: z.number().int().positive().optional(),
    workspaceMiB: z.number().int().positive().optional(),
    capabilities: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).optional(),
  }),
  agent: savedAgentSchema,
  files: z.object({
    state: digestSchema,
    ram: z.object({ bytes: z.number().int().nonnegative(), allocated_bytes: z.number().int().nonnegative() }),
  }),
});

export type SnapshotManifest = z.infer<typeof manifestSchema>;
export const qemuManifestSchema: z.ZodType<SnapshotManifest> = manifestSchema;

/** The manifest in `text`, or an error naming the file, the field, what was expected and what was found. */
export function parseManifest(text: string, file: string): SnapshotManifest {
  return parseManifestWith(manifestSchema, text, file);
}

/** What this host would restore with. */
export interface RestoreTarget {
  qemu: string;
  kernel: { version: string; sha256: string };
  image: string;
  accel: 'kvm' | 'tcg';
}

/** Why `manifest` cannot be restored by `target`, or undefined when it can; `dir` names the snapshot. */
export function restoreMismatch(manifest: SnapshotManifest, target: RestoreTarget, dir: string): string | undefined {
  if (manifest.qemu !== target.qemu) return `snapshot ${dir} was saved by ${JSON.stringify(manifest.qemu)}, this host runs ${JSON.stringify(target.qemu)}: qemu restores only a stream of its own version`;
  if (manifest.kernel.sha256 !== target.kernel.sha256) {
    return `snapshot ${dir} was saved with guest kernel ${manifest.kernel.version} (sha256 ${manifest.kernel.sha256.slice(0, 12)}…), this backend boots ${target.kernel.version} (sha256 ${target.kernel.sha256.slice(0, 12)}…): a saved guest restores only into the kernel that saved it`;
  }
  if (manifest.image !== target.image) return `snapshot ${dir} was saved with guest image ${manifest.image}, this backend's is ${target.image}: its root image must be the one the saved guest mounted`;
  if (manifest.accel !== target.accel) return `snapshot ${dir} was saved under ${manifest.accel.toUpperCase()}, this host runs guests under ${target.accel.toUpperCase()}`;
  return undefined;
}
