/**
 * The `command` workload's params: checked (every problem listed, in the
 * "params.run: expected ..., found ..." form) and turned into one typed value.
 */
import { z } from 'zod';
import { describeFound, InputError } from '../../base/errors.ts';
import type { OutputMode } from '../process/spawner.ts';
import { Env, envProblems, ExpectExit, isArgv } from './param-checks.ts';
import { metricSourceProblems, parseMetricSources, readsStdoutSize, readsStdoutText, sourcedMetricNames, type MetricSource } from './metric-sources.ts';

/** An argv run directly, or a shell string run as `sh -c <string>`. */
export type CommandLine = string[];

export interface CommandParams {
  run: CommandLine;
  /** Once per cell before warmup. */
  setup?: CommandLine;
  /** Before every run, untimed. */
  prepare?: CommandLine;
  /** After every run, untimed. */
  conclude?: CommandLine;
  /** Once after the cell, also after an interrupt or a failure. */
  cleanup?: CommandLine;
  /** Exit code a run must end with; 'any' ignores it. Default 0. */
  expectExit: number | 'any';
  /** Default 'discard'. */
  output: OutputMode;
  env?: Record<string, string>;
  cwd?: string;
  /** sync + drop the page cache before every run (untimed). Default false. */
  dropCaches: boolean;
  /** Default 'native', falling back to 'node' when the helper cannot be built. */
  spawner: 'native' | 'node';
  /** Metrics read from each run's output, by name (params.metrics); {} when none. */
  metrics: Record<string, MetricSource>;
}

const COMMAND_KEYS = ['run', 'setup', 'prepare', 'conclude', 'cleanup'] as const;

const Line = z.union([z.string(), z.array(z.string())]);
/**
 * The params the command workload takes, checked when the rig is loaded (an
 * unknown key, say `setpu:`, is named there with its line and a did-you-mean);
 * validateCommandParams adds what a schema cannot say.
 */
export const CommandParamsSchema = z
  .object({
    run: Line,
    setup: Line.optional(),
    prepare: Line.optional(),
    conclude: Line.optional(),
    cleanup: Line.optional(),
    expect_exit: ExpectExit.optional(),
    output: z.enum(['discard', 'pipe', 'keep']).optional(),
    env: Env.optional(),
    cwd: z.string().min(1).optional(),
    drop_caches: z.boolean().optional(),
    spawner: z.enum(['native', 'node']).optional(),
    metrics: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
const OUTPUTS: readonly OutputMode[] = ['discard', 'pipe', 'keep'];

function commandProblem(key: string, value: unknown): string | null {
  if (typeof value === 'string' && value.trim() !== '') return null;
  if (isArgv(value)) return null;
  return `params.${key}: expected an argv list of strings or a shell string, found ${describeFound(value)}`;
}

/** Every problem with the params, empty when they are usable. Keys this workload does not know (matrix values) are left alone. */
export function validateCommandParams(params: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of COMMAND_KEYS) {
    if (key !== 'run' && params[key] === undefined) continue;
    const problem = commandProblem(key, params[key]);
    if (problem) problems.push(problem);
  }
  const expectExit = params.expect_exit;
  if (expectExit !== undefined && expectExit !== 'any' && !(Number.isInteger(expectExit) && (expectExit as number) >= 0 && (expectExit as number) <= 255)) {
    problems.push(`params.expect_exit: expected an exit code 0-255 or 'any', found ${describeFound(expectExit)}`);
  }
  if (params.output !== undefined && !OUTPUTS.includes(params.output as OutputMode)) {
    problems.push(`params.output: expected one of ${OUTPUTS.join(', ')}, found ${describeFound(params.output)}`);
  }
  const sourceProblems = metricSourceProblems(params.metrics);
  problems.push(...sourceProblems);
  if (sourceProblems.length === 0 && (params.output === 'discard' || params.output === 'pipe')) {
    const sources = parseMetricSources(params.metrics);
    const reading = sourcedMetricNames(params.metrics).filter((name) => readsStdoutText(sources[name]!) || readsStdoutSize(sources[name]!));
    if (reading.length > 0) {
      problems.push(`params.output: expected keep or no output (${reading.map((name) => `params.metrics.${name}`).join(', ')} read${reading.length === 1 ? 's' : ''} stdout), found ${describeFound(params.output)}`);
    }
  }
  problems.push(...envProblems(params.env));
  if (params.cwd !== undefined && (typeof params.cwd !== 'string' || params.cwd === '')) {
    problems.push(`params.cwd: expected a directory path, found ${describeFound(params.cwd)}`);
  }
  if (params.drop_caches !== undefined && typeof params.drop_caches !== 'boolean') {
    problems.push(`params.drop_caches: expected true or false, found ${describeFound(params.drop_caches)}`);
  }
  if (params.spawner !== undefined && params.spawner !== 'native' && params.spawner !== 'node') {
    problems.push(`params.spawner: expected native or node, found ${describeFound(params.spawner)}`);
  }
  return problems;
}

/** A shell string becomes `sh -c <string>`; an argv is used as is. */
function toCommandLine(value: string | string[]): CommandLine {
  return typeof value === 'string' ? ['sh', '-c', value] : [...value];
}

/** Typed params with defaults; throws InputError listing every problem. */
export function parseCommandParams(params: Record<string, unknown>): CommandParams {
  const problems = validateCommandParams(params);
  if (problems.length > 0) throw new InputError(problems.join('\n'));
  const line = (key: (typeof COMMAND_KEYS)[number]) =>
    params[key] === undefined ? undefined : toCommandLine(params[key] as string | string[]);
  const env = params.env as Record<string, string | number | boolean> | undefined;
  return {
    run: toCommandLine(params.run as string | string[]),
    setup: line('setup'),
    prepare: line('prepare'),
    conclude: line('conclude'),
    cleanup: line('cleanup'),
    expectExit: (params.expect_exit as number | 'any' | undefined) ?? 0,
    output: (params.output as OutputMode | undefined) ?? 'discard',
    env: env && Object.fromEntries(Object.entries(env).map(([name, value]) => [name, String(value)])),
    cwd: params.cwd as string | undefined,
    dropCaches: (params.drop_caches as boolean | undefined) ?? false,
    spawner: (params.spawner as 'native' | 'node' | undefined) ?? 'native',
    metrics: parseMetricSources(params.metrics),
  };
}
