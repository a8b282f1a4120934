/**
 * The artifact of a run, built once from what was measured: the plan's rig,
 * the executed cells, host and git blocks, and the gates and ratios computed
 * from those cells by pure functions. Nothing here touches the outside world.
 */
import type { Artifact, CellResult, Interleave } from '../artifact/schema.ts';
import { ARTIFACT_SCHEMA_ID } from '../artifact/schema.ts';
import { evaluateGates } from '../gate/evaluate.ts';
import type { Rig } from '../rig/schema.ts';
import { TOOL_VERSION } from '../version.ts';
import type { Executed } from './execute.ts';
import { computeRatios } from './ratios.ts';

export interface AssembleInput {
  /** The rig as run (overrides applied), its file as loaded and as the artifact names it. */
  rig: Rig;
  definition: Rig;
  rigPath: string;
  rigSha256: string;
  runId: string;
  commandLine: string[];
  overrides: Record<string, unknown>;
  /** rigor run --trial: marked so that a rig name never resolves to it. */
  trial?: boolean;
  startedAt: string;
  finishedAt: string;
  interrupted: boolean;
  /** What was measured; `interleave` is set when the cells ran in shuffled rounds. */
  executed: Executed & { interleave?: Interleave };
  git: Artifact['git'];
  /** The host block without the tools the workloads reported (they are merged in). */
  host: Artifact['host'];
  /** process.env's settings that can move numbers. */
  env: Record<string, string | undefined>;
}

export function assembleArtifact(input: AssembleInput): Artifact {
  const { executed } = input;
  const status = executed.failure ? 'failed' : input.interrupted ? 'interrupted' : 'complete';
  const host = { ...input.host, tools: { ...input.host.tools, ...executed.tools } };
  const measured = { cells: executed.cells, host };
  return {
    schema: ARTIFACT_SCHEMA_ID,
    tool: { name: 'rigor', version: TOOL_VERSION },
    rig: { name: input.rig.name, path: input.rigPath, sha256: input.rigSha256, definition: input.definition },
    run: {
      id: input.runId,
      command_line: input.commandLine,
      started_at: input.startedAt,
      finished_at: input.finishedAt,
      status,
      ...(executed.failure ? { error: executed.failure } : {}),
      overrides: input.overrides,
      ...(input.trial ? { trial: true } : {}),
      mode: executed.interleave ? 'interleaved' : 'sequential',
    },
    git: input.git,
    host,
    environment: environmentOf(executed.cells, input.env),
    cells: executed.cells,
    gates: evaluateGates(input.rig.gates, input.rig.metrics, measured),
    ratios: computeRatios(input.rig.ratios ?? [], executed.cells),
    ...(executed.interleave ? { interleave: executed.interleave } : {}),
  };
}

/**
 * Settings outside the matrix that can move numbers, and the guests the cells
 * booted (kernel, its config hash and patches, command line), each once.
 */
export function environmentOf(cells: readonly CellResult[], env: Record<string, string | undefined>): Record<string, unknown> {
  const guests = new Map<string, unknown>();
  for (const cell of cells) {
    const guest = cell.facts?.guest;
    if (guest && typeof guest === 'object') guests.set(JSON.stringify(guest), guest);
  }
  return {
    ci: Boolean(env.CI),
    node_options: env.NODE_OPTIONS ?? null,
    tz: env.TZ ?? null,
    lang: env.LANG ?? null,
    ...(guests.size > 0 ? { guests: [...guests.values()] } : {}),
  };
}
