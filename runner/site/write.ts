/**
 * Applying a site plan: the whole site is written to a fresh folder beside the
 * output and swapped in at the end, so the output is never half old, half new.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { InputError } from '../../base/errors.ts';
import type { SitePlan } from './plan.ts';

/** Marks a folder as written by rigor site: only such a folder (or an empty one) is ever replaced. */
const SITE_MARKER = '.rigor-site';

/** Throws unless outDir is absent, empty, or marked as a site; checked before a build starts and again before writing. */
export function assertReplaceable(outDir: string): void {
  if (!existsSync(outDir)) return;
  const entries = readdirSync(outDir);
  if (entries.length > 0 && !entries.includes(SITE_MARKER)) {
    throw new InputError(
      `${outDir}: expected an empty folder or one rigor site wrote (with a ${SITE_MARKER} file), found other files; ` +
        'choose another --out or remove the folder yourself',
    );
  }
}

/** staging/path, refused unless it stays inside staging: a name from an artifact must never place a file elsewhere. */
export function insideSite(staging: string, path: string): string {
  const full = resolve(staging, path);
  if (isAbsolute(path) || !full.startsWith(`${staging}${sep}`)) {
    throw new Error(`site plan: ${JSON.stringify(path)} would be written outside the output folder; nothing was published`);
  }
  return full;
}

export function applyPlan(plan: SitePlan, outDir: string): void {
  const target = resolve(outDir);
  assertReplaceable(target);
  const staging = `${target}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    const write = (path: string) => {
      const full = insideSite(staging, path);
      mkdirSync(dirname(full), { recursive: true });
      return full;
    };
    for (const file of plan.files) writeFileSync(write(file.path), file.content);
    for (const copy of plan.copies) copyFileSync(copy.from, write(copy.path));
    writeFileSync(join(staging, SITE_MARKER), 'Written by `rigor site`; the whole folder is replaced on the next build.\n');
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}
