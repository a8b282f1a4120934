/** Damaged copies of a saved snapshot, for the refusal tests of every backend that restores one. */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A copy of the snapshot at `from` under `root/name`, with `change` applied to it. */
export function damagedCopy(from: string, root: string, name: string, change: (dir: string) => void): string {
  const dir = join(root, name);
  cpSync(from, dir, { recursive: true });
  change(dir);
  return dir;
}

/** Rewrites the snapshot's manifest.json after `edit` changed it. */
export function editManifest(dir: string, edit: (manifest: Record<string, any>) => void): void {
  const file = join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  edit(manifest);
  writeFileSync(file, JSON.stringify(manifest));
}
