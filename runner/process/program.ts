/** What program a run really started: PATH can hold a wrapper (a pyenv shim is a bash script) that costs time. */
import { closeSync, openSync, readSync, realpathSync } from 'node:fs';
import { which } from '../../base/which.ts';

export interface ProgramFacts {
  argv0: string;
  /** The file PATH resolved argv0 to, symlinks followed; null when not found. */
  path: string | null;
  /** The `#!` line when the file is a script (the run pays for its interpreter too). */
  script: string | null;
}

export function describeProgram(argv0: string): ProgramFacts {
  const found = which(argv0);
  if (!found) return { argv0, path: null, script: null };
  const path = realpathSync(found);
  const head = Buffer.alloc(256);
  const fd = openSync(path, 'r');
  let length: number;
  try {
    length = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const text = head.subarray(0, length).toString('latin1');
  return { argv0, path, script: text.startsWith('#!') ? text.slice(0, text.indexOf('\n') >>> 0).trim() : null };
}
