/**
 * Whether a page-cache-dropped run of a program is a cold start. drop_caches
 * evicts no page a live process maps, and rigor is a live process: a program
 * whose file rigor's own node maps (node itself, when rigor times node) or the
 * native helper maps starts with those pages cached however often the cache
 * is dropped. Such a cell says it is not cold, and why; measuring it cold
 * would need a measuring process that maps none of it, which rigor is not.
 * Any other live process mapping it (a shell script of someone else's) keeps
 * it cached too: the residency read after each drop (cache-drop.ts) shows it.
 */
import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { mappedFiles } from '../../base/proc-maps.ts';
import { which } from '../../base/which.ts';
import type { CacheDropFacts } from './cache-drop.ts';
import type { ProgramFacts } from './program.ts';

/** What facts.cold says in a cell whose runs drop the page cache. */
export interface ColdFacts {
  cold: boolean;
  /** Why not, when cold is false. */
  why?: string;
}

/** A process of the harness and the files it maps. */
export interface HarnessMapping {
  /** e.g. "rigor's own process (pid 1234)". */
  who: string;
  files: ReadonlySet<string>;
}

/** The files a run of the program loads from disk itself: the program, and the interpreter its `#!` line names. */
export function programFiles(program: ProgramFacts, path = process.env.PATH): string[] {
  const files = [program.path];
  const words = program.script?.slice(2).trim().split(/\s+/) ?? [];
  const interpreter = words[0] && basename(words[0]) === 'env' ? words.find((word, i) => i > 0 && !word.startsWith('-')) : words[0];
  const found = interpreter ? which(interpreter, { path }) : null;
  if (found) files.push(realpathSync(found));
  return [...new Set(files)];
}

/** rigor's own process and the spawner's helpers, with what each maps now. */
export function harnessMappings(helperPids: readonly number[]): HarnessMapping[] {
  const processes: { who: string; pid: number | 'self' }[] = [
    { who: `rigor's own process (pid ${process.pid})`, pid: 'self' },
    ...helperPids.map((pid) => ({ who: `rigor's native spawner (pid ${pid})`, pid })),
  ];
  return processes.flatMap(({ who, pid }) => {
    const files = mappedFiles(pid);
    return files ? [{ who, files }] : [];
  });
}

/**
 * Cold unless no drop succeeded, a harness process maps one of `files`, or
 * (when residency was read) some of a file stayed cached after the drops. Pure.
 */
export function coldVerdict(files: readonly string[], drops: CacheDropFacts, harness: readonly HarnessMapping[]): ColdFacts {
  if (drops.succeeded === 0) {
    return { cold: false, why: `no cache drop succeeded${drops.failed_reason ? ` (${drops.failed_reason})` : ''}` };
  }
  const reasons: string[] = [];
  const mapped = files.flatMap((file) => {
    const mappers = harness.filter((mapping) => mapping.files.has(file)).map((mapping) => mapping.who);
    return mappers.length > 0 ? [`${file} is mapped by ${mappers.join(' and ')}`] : [];
  });
  if (mapped.length > 0) reasons.push(`${mapped.join('; ')}: drop_caches cannot evict the pages a live process maps, so every run found them cached`);
  const stayed = files.flatMap((file) => {
    const resident = drops.resident_after_drop?.[file];
    if (!resident?.resident_kib_median || mapped.some((reason) => reason.startsWith(`${file} `))) return [];
    return [`${resident.resident_kib_median} of ${resident.size_kib} kB of ${file}`];
  });
  if (stayed.length > 0) reasons.push(`${stayed.join(' and ')} stayed in the page cache after the drops (median): some live process maps it`);
  return reasons.length === 0 ? { cold: true } : { cold: false, why: reasons.join('; ') };
}
