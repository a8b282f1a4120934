/**
 * Containers of ours that a SIGKILLed rigor left behind (a `create`d container
 * whose `rm` never ran, a `run --rm` whose engine never removed it): named
 * `rigor-cycle-<pid>-<n>`, each belongs to a dead process when that pid is
 * gone, and is removed before a cell makes containers of its own.
 */
import { execa } from 'execa';
import { forceRemoveStep, listOursStep, ownerPid, type EngineCli, type StepCommand } from './steps.ts';

/** Names in `ps --format {{.Names}}` output whose owner pid is not alive (and is not `self`). */
export function leftoverNames(psOutput: string, alive: (pid: number) => boolean, self = process.pid): string[] {
  return psOutput
    .split('\n')
    .map((line) => line.trim())
    .filter((name) => {
      const pid = ownerPid(name);
      return pid !== null && pid !== self && !alive(pid);
    });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, someone else's
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An untimed engine command; resolves with its outcome, never throws. */
export async function runUntimed(engine: EngineCli, step: StepCommand, timeoutMs = 60_000): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const result = await execa(step.file, step.argv.slice(1), { env: engine.env, reject: false, stdin: 'ignore', timeout: timeoutMs });
  return { ok: result.exitCode === 0, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? result.shortMessage ?? '') };
}

/** Remove every leftover of a dead rigor; returns their names. */
export async function sweepLeftovers(engine: EngineCli): Promise<string[]> {
  const listed = await runUntimed(engine, listOursStep(engine));
  if (!listed.ok) return [];
  const names = leftoverNames(listed.stdout, pidAlive);
  if (names.length > 0) await runUntimed(engine, forceRemoveStep(engine, names));
  return names;
}
