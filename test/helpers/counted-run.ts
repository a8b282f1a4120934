/** A command that behaves differently on its Nth run: for tests that fail or hang one run in the middle of a batch. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** sh -c script: counts its runs in $1; run number $2 (from 0) writes its pid to $1.pid, "run N" to stderr, then does "$3". */
const SCRIPT = 'n=$(cat "$1" 2>/dev/null || echo 0); echo $((n + 1)) > "$1"; [ "$n" -ne "$2" ] || { echo $$ > "$1.pid"; echo "run $n" >&2; eval "$3"; }';

export interface CountedRun {
  argv: string[];
  /** Runs started so far. */
  runs(): number;
  /** Pid of run number `at` (it leads its process group). */
  pid(): number;
}

/** argv that runs `then` (shell code, e.g. "exit 4" or "exec sleep 5") on run number `at`, counting runs in dir/name. */
export function countedRun(dir: string, name: string, at: number, then: string): CountedRun {
  const file = join(dir, name);
  return {
    argv: ['sh', '-c', SCRIPT, 'sh', file, String(at), then],
    runs: () => Number(readFileSync(file, 'utf8')),
    pid: () => Number(readFileSync(`${file}.pid`, 'utf8')),
  };
}
