/**
 * The `callgrind` workload's params: checked (every problem listed, in the
 * "params.run: expected ..., found ..." form) and turned into one typed value.
 */
import { describeFound, InputError } from '../../../base/errors.ts';
import { argvProblems, envProblems, isArgv, wholeNumberProblems } from '../param-checks.ts';

/** What runs under callgrind: a command to its exit, or the native agent answering EXEC requests. */
export type CallgrindTarget =
  | { kind: 'command'; run: string[]; expectExit: number | 'any' }
  | { kind: 'agent-exec'; requests: number; exec: string[] };

export interface CallgrindParams {
  target: CallgrindTarget;
  /** Functions whose run is counted (`--toggle-collect`, with `--collect-atstart=no`); empty: the whole program. */
  toggleCollect: string[];
  /** The program's whole environment besides PATH, so a count does not depend on the caller's. */
  env: Record<string, string>;
}

export const DRIVES = ['agent-exec'] as const;
/** EXEC requests per run of the agent when the rig does not say. */
export const DEFAULT_REQUESTS = 100;
export const DEFAULT_EXEC = ['/bin/true'];

const AGENT_ONLY = ['requests', 'exec'] as const;
const COMMAND_ONLY = ['run', 'expect_exit'] as const;

/** Every problem with the params, empty when they are usable. Keys this workload does not know (matrix values) are left alone. */
export function validateCallgrindParams(params: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const drive = params.drive;
  if (drive !== undefined && !(DRIVES as readonly unknown[]).includes(drive)) {
    problems.push(`params.drive: expected ${DRIVES.join(' or ')} (or no drive: run a command to its exit), found ${describeFound(drive)}`);
  } else if (drive === 'agent-exec') {
    for (const key of COMMAND_ONLY) {
      if (params[key] !== undefined) problems.push(`params.${key}: expected nothing with drive: agent-exec (the program is the native agent), found ${describeFound(params[key])}`);
    }
    problems.push(...wholeNumberProblems(params, 'requests', { unit: 'requests' }), ...argvProblems(params, 'exec'));
  } else {
    for (const key of AGENT_ONLY) {
      if (params[key] !== undefined) problems.push(`params.${key}: expected nothing without drive: agent-exec, found ${describeFound(params[key])}`);
    }
    problems.push(...argvProblems(params, 'run', { required: true }));
    const expectExit = params.expect_exit;
    if (expectExit !== undefined && expectExit !== 'any' && !(Number.isInteger(expectExit) && (expectExit as number) >= 0 && (expectExit as number) <= 255)) {
      problems.push(`params.expect_exit: expected an exit code 0-255 or 'any', found ${describeFound(expectExit)}`);
    }
  }
  const toggle = params.toggle_collect;
  if (toggle !== undefined && !(Array.isArray(toggle) && toggle.length > 0 && toggle.every((name) => typeof name === 'string' && /^\S+$/.test(name)))) {
    problems.push(`params.toggle_collect: expected a list of function names (callgrind --toggle-collect, * and ? as wildcards), found ${describeFound(toggle)}`);
  }
  problems.push(...envProblems(params.env));
  return problems;
}

/** Typed params with defaults; throws InputError listing every problem. */
export function parseCallgrindParams(params: Record<string, unknown>): CallgrindParams {
  const problems = validateCallgrindParams(params);
  if (problems.length > 0) throw new InputError(problems.join('\n'));
  const target: CallgrindTarget =
    params.drive === 'agent-exec'
      ? { kind: 'agent-exec', requests: (params.requests as number | undefined) ?? DEFAULT_REQUESTS, exec: isArgv(params.exec) ? [...params.exec] : DEFAULT_EXEC }
      : { kind: 'command', run: [...(params.run as string[])], expectExit: (params.expect_exit as number | 'any' | undefined) ?? 0 };
  const env = (params.env ?? {}) as Record<string, string | number | boolean>;
  return {
    target,
    toggleCollect: [...((params.toggle_collect as string[] | undefined) ?? [])],
    env: Object.fromEntries(Object.entries(env).map(([name, value]) => [name, String(value)])),
  };
}
