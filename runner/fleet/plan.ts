/** The ansible-playbook command line, environment and variables of a fleet run, decided before anything runs. Pure. */
import { join } from 'node:path';
import { STRICT_INVENTORY_ENV } from './inventory.ts';
import type { ShippedSource } from './source.ts';

export interface FleetPlanInput {
  runId: string;
  /** The rig file, relative to the repository (the hosts unpack the same tree). */
  rigPath: string;
  sets: string[];
  iterations: number | null;
  inventory: string;
  /** The hosts to run on: all of the inventory, or what --limit (or --retry-failed) left. */
  hosts: string[];
  /** True when every host of the inventory is asked: no --limit is passed. */
  allHosts: boolean;
  forks: number | null;
  serial: string | null;
  /** Ansible's own options, after --. */
  extraArgs: string[];
  /** fleet/ of the repository: the playbooks and the callback plugin. */
  fleetDir: string;
  /** A scratch directory of the controller: vars, events, what is fetched. */
  workDir: string;
  source: ShippedSource;
  /** ANSIBLE_CALLBACKS_ENABLED as the user set it. */
  callbacksEnabled?: string;
}

export interface FleetPlan {
  argv: string[];
  env: Record<string, string>;
  vars: Record<string, unknown>;
  varsFile: string;
  eventsFile: string;
  fetchDir: string;
  /** The same hosts, inventory and run id for fleet/stop.yml, played when the run is interrupted. */
  stopArgv: string[];
}

/** `rigor run` arguments after the rig: the same --set and --iterations on every host. */
export function rigRunArgs(sets: string[], iterations: number | null): string[] {
  return [...sets.flatMap((set) => ['--set', set]), ...(iterations === null ? [] : ['--iterations', String(iterations)])];
}

export function planFleetRun(input: FleetPlanInput): FleetPlan {
  const varsFile = join(input.workDir, 'vars.json');
  const eventsFile = join(input.workDir, 'events.jsonl');
  const fetchDir = join(input.workDir, 'fetched');
  const { git } = input.source;
  const vars: Record<string, unknown> = {
    rigor_run_id: input.runId,
    rigor_rig: input.rigPath,
    rigor_run_args: rigRunArgs(input.sets, input.iterations),
    rigor_archive: input.source.archive,
    ...(input.source.diff && { rigor_diff: input.source.diff }),
    rigor_source: { commit: git.commit, branch: git.branch, dirty: git.dirty, dirty_paths: git.dirty_paths },
    rigor_fetch: fetchDir,
    ...(input.serial !== null && { rigor_serial: input.serial }),
  };
  const limit = input.allHosts ? [] : ['--limit', input.hosts.join(',')];
  const argv = [
    'ansible-playbook',
    '-i',
    input.inventory,
    join(input.fleetDir, 'run.yml'),
    '-e',
    `@${varsFile}`,
    ...limit,
    ...(input.forks === null ? [] : ['--forks', String(input.forks)]),
    ...input.extraArgs,
  ];
  const stopArgv = ['ansible-playbook', '-i', input.inventory, join(input.fleetDir, 'stop.yml'), '-e', `rigor_run_id=${input.runId}`, ...limit, ...input.extraArgs];
  const env = {
    ...STRICT_INVENTORY_ENV,
    ANSIBLE_CALLBACK_PLUGINS: join(input.fleetDir, 'callback_plugins'),
    // the user's own callbacks (profile_tasks, ...) stay on
    ANSIBLE_CALLBACKS_ENABLED: ['rigor_events', ...(input.callbacksEnabled ? [input.callbacksEnabled] : [])].join(','),
    RIGOR_FLEET_EVENTS: eventsFile,
    ANSIBLE_RETRY_FILES_ENABLED: 'false',
    ANSIBLE_NOCOLOR: '1',
  };
  return { argv, env, vars, varsFile, eventsFile, fetchDir, stopArgv };
}
