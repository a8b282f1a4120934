/**
 * What program a run really starts. The program is found on PATH once, before
 * any run is timed, and every run execs that absolute path: a lookup inside the
 * timed window costs a failed stat per PATH entry before the right one (many
 * under `npx`), and reads the disk for each after a page-cache drop. PATH can
 * also hold a wrapper (a pyenv shim is a bash script) that costs time.
 */
import { closeSync, openSync, readSync, realpathSync } from 'node:fs';
import { which } from '../../base/which.ts';

/** A command ready to exec: `file` absolute (no PATH search at exec), argv[0] as the rig gave it. */
export interface ResolvedCommand {
  file: string;
  argv: string[];
}

export interface ProgramFacts {
  argv0: string;
  /** The absolute path every run execs, found once before sampling (outside the timed runs). */
  exec_path: string;
  /** That file with symlinks followed. */
  path: string;
  /** The `#!` line when the file is a script (the run pays for its interpreter too). */
  script: string | null;
}

/**
 * Find argv[0] as the runs would: on the PATH of their environment (`env.PATH`
 * when the rig sets it, else the runner's), relative names from their `cwd`.
 * Throws naming the program when there is nothing executable to run.
 */
export function resolveCommand(argv: readonly string[], where: { env?: Record<string, string>; cwd?: string } = {}): ResolvedCommand {
  const argv0 = argv[0] ?? '';
  const file = which(argv0, { path: where.env?.PATH ?? process.env.PATH, cwd: where.cwd });
  if (file === null) {
    const how = argv0.includes('/') ? 'not an executable file' : 'not found as an executable file on PATH';
    throw new Error(`cannot start ${argv0}: ${how}`);
  }
  return { file, argv: [...argv] };
}

export function describeProgram(command: ResolvedCommand): ProgramFacts {
  const path = realpathSync(command.file);
  const head = Buffer.alloc(256);
  const fd = openSync(path, 'r');
  let length: number;
  try {
    length = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const text = head.subarray(0, length).toString('latin1');
  return {
    argv0: command.argv[0] ?? '',
    exec_path: command.file,
    path,
    script: text.startsWith('#!') ? text.slice(0, text.indexOf('\n') >>> 0).trim() : null,
  };
}
