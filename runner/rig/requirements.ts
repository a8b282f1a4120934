/** What a cell needs from the host; a cell missing something is skipped with the reason, never dropped. */
import { which } from '../../base/which.ts';
import { cellMatches } from './matrix.ts';
import type { Requirement } from './schema.ts';
import { substitute } from './substitute.ts';

export interface HostFacts {
  isRoot: boolean;
  /** Called only when a requirement asks for KVM (probing may boot a guest); callers memoize it. */
  kvmUsable: () => Promise<{ usable: boolean; reason: string }>;
  hasBinary: (name: string) => boolean;
}

/**
 * The first unmet requirement that applies to a cell (its `where` matches the
 * params), as a reason for `skipped`; null when all are met. Requirements are
 * checked in order, each as binary, then root, then KVM.
 */
export async function missingRequirement(
  reqs: Requirement[],
  params: Record<string, unknown>,
  facts: HostFacts,
): Promise<string | null> {
  for (const req of reqs) {
    if (req.where && !cellMatches(params, req.where)) continue;
    if (req.binary !== undefined) {
      const binary = String(substitute(req.binary, params));
      if (!facts.hasBinary(binary)) {
        return binary.includes('/') ? `needs ${binary} (not found or not executable)` : `needs ${binary} on PATH (not found)`;
      }
    }
    if (req.root && !facts.isRoot) return `needs root (running as uid ${process.getuid?.() ?? 'unknown'})`;
    if (req.kvm) {
      const kvm = await facts.kvmUsable();
      if (!kvm.usable) return `needs usable KVM: ${kvm.reason}`;
    }
  }
  return null;
}
