/**
 * Progress of a kernel build on stderr: a line per stage, and while make
 * compiles, how many files it compiled so far, at most one line per interval
 * (a build compiles about a thousand files; a line each would flood).
 */

/** kbuild's short output for a C file it compiles: "  CC      kernel/fork.o". */
export function isCompileLine(line: string): boolean {
  return /^\s+CC\s+\S/.test(line);
}

export interface BuildProgress {
  /** A new stage starts: printed at once. */
  stage(name: string): void;
  /** One line of make's output. */
  makeLine(line: string): void;
  /** Files compiled so far. */
  readonly compiled: number;
}

export function buildProgress(write: (line: string) => void, options: { intervalMs?: number; now?: () => number } = {}): BuildProgress {
  const intervalMs = options.intervalMs ?? 10_000;
  const now = options.now ?? Date.now;
  const started = now();
  let compiled = 0;
  let lastReport = started;
  const elapsed = (): string => `${Math.round((now() - started) / 1000)} s`;
  return {
    stage(name) {
      write(`kernel: ${name} (${elapsed()})`);
      lastReport = now();
    },
    makeLine(line) {
      if (!isCompileLine(line)) return;
      compiled += 1;
      if (now() - lastReport < intervalMs) return;
      write(`kernel:   ${compiled} files compiled (${elapsed()})`);
      lastReport = now();
    },
    get compiled() {
      return compiled;
    },
  };
}
