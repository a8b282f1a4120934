/**
 * The `callgrind` workload's params: declared as a schema (checked at load
 * with positions), the targets kept apart, and turned into one typed value.
 */
import { z } from 'zod';
import { describeFound, InputError } from '../../../base/errors.ts';
import { formatParamProblem, paramProblems } from '../../rig/param-problems.ts';
import { Argv, Env, ExpectExit, isArgv, wholeNumber } from '../param-checks.ts';

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
const TOGGLE = 'a list of function names (callgrind --toggle-collect, * and ? as wildcards)';

/** The params, each on its own; which belong together is callgrindTargetProblems'. */
export const CallgrindParamsSchema = z.strictObject({
  drive: z.enum(DRIVES, { error: `${DRIVES.join(' or ')} (or no drive: run a command to its exit)` }).optional(),
  requests: wholeNumber({ unit: 'requests' }).optional(),
  exec: Argv.optional(),
  run: Argv.optional(),
  expect_exit: ExpectExit.optional(),
  toggle_collect: z
    .array(z.unknown(), { error: TOGGLE })
    .refine((names) => names.length > 0 && names.every((name) => typeof name === 'string' && /^\S+$/.test(name)), { error: TOGGLE })
    .optional(),
  env: Env.optional(),
});

/** The two targets kept apart: a command needs `run`, the agent takes `requests` and `exec` instead. */
export function callgrindTargetProblems(params: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (params.drive === 'agent-exec') {
    for (const key of COMMAND_ONLY) {
      if (params[key] !== undefined) problems.push(`params.${key}: expected nothing with drive: agent-exec (the program is the native agent), found ${describeFound(params[key])}`);
    }
  } else {
    for (const key of AGENT_ONLY) {
      if (params[key] !== undefined) problems.push(`params.${key}: expected nothing without drive: agent-exec, found ${describeFound(params[key])}`);
    }
    if (params.run === undefined) problems.push('params.run: expected an argv list of strings (or drive: agent-exec), found nothing');
  }
  return problems;
}

/** Typed params with defaults; throws InputError listing every problem. */
export function parseCallgrindParams(params: Record<string, unknown>): CallgrindParams {
  // Keys that are not callgrind's (matrix axes naming the cell) are not its to judge here.
  const problems = paramProblems({ paramsSchema: CallgrindParamsSchema, validateParams: callgrindTargetProblems }, params, { workload: 'callgrind', roleOf: () => 'label' });
  if (problems.length > 0) throw new InputError(problems.map(formatParamProblem).join('\n'));
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
