/**
 * patches/series: the patches applied to the kernel source, in order, one
 * file name (relative to the series' folder) per line; `#` starts a comment.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { InputError } from '../base/errors.ts';

export interface SeriesEntry {
  /** As the series names it ("0001-foo.patch"). */
  name: string;
  /** The series file and the line that names it, for errors. */
  file: string;
  line: number;
}

export interface Patch extends SeriesEntry {
  path: string;
  text: string;
}

/** The entries of a series text; throws naming file:line for a line that is not one patch name. */
export function parseSeries(text: string, file: string): SeriesEntry[] {
  const entries: SeriesEntry[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/#.*$/, '').trim();
    if (content === '') return;
    const where = `${file}:${line}`;
    if (/\s/.test(content)) throw new InputError(`${where}: expected one patch file name per line (patches apply with -p1), found ${JSON.stringify(content)}`);
    if (isAbsolute(content) || normalize(content).split(sep).includes('..')) {
      throw new InputError(`${where}: expected a patch file name inside the series' folder, found ${JSON.stringify(content)}`);
    }
    const earlier = seen.get(content);
    if (earlier !== undefined) throw new InputError(`${where}: ${content} is already listed at line ${earlier}`);
    seen.set(content, line);
    entries.push({ name: content, file, line });
  });
  return entries;
}

/** The series in `dir` with each patch's text; a patch the series names that cannot be read is an error naming its line. */
export async function readSeries(dir: string): Promise<{ file: string; text: string; patches: Patch[] }> {
  const file = join(dir, 'series');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError(`${file}: cannot read the patch series (${(error as NodeJS.ErrnoException).code}); an empty series is a file with comments only`);
  }
  const patches = await Promise.all(
    parseSeries(text, file).map(async (entry) => {
      const path = join(dir, entry.name);
      try {
        return { ...entry, path, text: await readFile(path, 'utf8') };
      } catch (error) {
        throw new InputError(`${entry.file}:${entry.line}: patch ${entry.name}: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`);
      }
    }),
  );
  return { file, text, patches };
}
