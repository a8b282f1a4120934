/**
 * `rigor fleet run`: check everything that can be checked before a host is
 * touched (rig, --set, inventory, --limit), pack the source, plan
 * (plan.ts), drive ansible-playbook, then merge what came back and write the
 * fleet record. Ctrl-C stops ansible-playbook, plays fleet/stop.yml on the
 * hosts (no rigor process is left running there) and keeps what was fetched.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../base/errors.ts';
import { lastLines, TailBuffer } from '../../base/tail.ts';
import { resolveRigPath } from '../rig/discover.ts';
import { loadRig } from '../rig/load.ts';
import { applyOverrides } from '../rig/overrides.ts';
import { isBatchedWorkload, workloadChecks } from '../workloads/index.ts';
import { TOOL_VERSION } from '../version.ts';
import { applyLimit, readInventory } from './inventory.ts';
import { applyMerge, collectArtifacts, existingIn, planMerge, type FoundArtifact, type Placed } from './merge.ts';
import { sharedHardwareNotes } from './notes.ts';
import { hostOutcome, parseEvents, type HostReturn } from './outcomes.ts';
import { planFleetRun } from './plan.ts';
import { readFleetRecord, writeFleetRecord } from './record-file.ts';
import type { FleetRecord } from './record.ts';
import { packSource } from './source.ts';
import { coveredSeconds, rigSpans } from './timing.ts';

export const FLEET_DIR = fileURLToPath(new URL('../../fleet/', import.meta.url));

export interface FleetRunOptions {
  rig: string | null;
  sets: string[] | null;
  iterations: number | null;
  inventory: string | null;
  limit: string | null;
  forks: number | null;
  serial: string | null;
  extraArgs: string[];
  retryFailed: string | null;
  resultsDir: string;
  /** The repository whose HEAD (and working tree) is shipped. */
  repo: string;
  commandLine: string[];
  /** Where ansible-playbook's output and rigor's notes go (stderr). */
  log: (text: string) => void;
  signal: AbortSignal;
}

export interface FleetRunResult {
  record: FleetRecord;
  recordPath: string;
}

/** What to run where, from the options and (for --retry-failed) the record being retried; every InputError is thrown here. */
function resolveRequest(opts: FleetRunOptions) {
  const retried = opts.retryFailed ? readFleetRecord(opts.retryFailed) : null;
  if (retried && opts.limit) throw new InputError('--limit: not with --retry-failed, which runs on the hosts that failed in the record');
  const rigArgument = opts.rig ?? retried?.rig.path ?? retried?.rig.name ?? null;
  if (!rigArgument) throw new InputError('fleet run: expected a rig (rigor fleet run <rig> --inventory <file>), found none');
  const rigPath = resolveRigPath(rigArgument);
  const inRepo = relative(opts.repo, resolve(rigPath));
  if (inRepo.startsWith('..') || isAbsolute(inRepo)) {
    throw new InputError(`${rigPath}: a fleet run ships the repository, so the rig must be inside ${opts.repo}; found it outside`);
  }
  const sets = opts.sets ?? retried?.overrides.set ?? [];
  const iterations = opts.iterations ?? retried?.overrides.iterations ?? null;
  if (iterations !== null && (!Number.isInteger(iterations) || iterations < 1)) throw new InputError(`--iterations: expected a whole number >= 1, found ${iterations}`);
  // the rig and every --set are checked here, as each host's rigor run would, before a host is touched
  const { rig } = applyOverrides(loadRig(rigPath, { ...workloadChecks, batched: isBatchedWorkload }).rig, sets);
  if (retried && retried.rig.name !== rig.name) {
    throw new InputError(`${opts.retryFailed}: a fleet record of rig ${retried.rig.name}, not ${rig.name}; leave the rig out to retry it`);
  }
  const inventoryPath = opts.inventory ?? retried?.ansible?.inventory ?? null;
  if (!inventoryPath) throw new InputError('--inventory: expected an Ansible inventory file, found none');
  const inventory = readInventory(inventoryPath);
  let hosts: string[];
  if (retried) {
    const failed = retried.hosts.filter((host) => host.outcome !== 'ok').map((host) => host.name);
    if (failed.length === 0) throw new InputError(`${opts.retryFailed}: every host of this fleet run is ok; nothing to retry`);
    const gone = failed.filter((name) => !inventory.hosts.includes(name));
    if (gone.length) throw new InputError(`--retry-failed: ${gone.join(', ')} ${gone.length === 1 ? 'is' : 'are'} not in ${inventoryPath} (hosts: ${inventory.hosts.join(', ')})`);
    hosts = failed;
  } else {
    hosts = opts.limit ? applyLimit(inventory, opts.limit) : inventory.hosts;
  }
  if (opts.forks !== null && (!Number.isInteger(opts.forks) || opts.forks < 1)) throw new InputError(`--forks: expected a whole number >= 1, found ${opts.forks}`);
  if (opts.serial !== null && !/^([1-9]\d*|([1-9]\d?|100)%)$/.test(opts.serial)) throw new InputError(`--serial: expected a number of hosts (2) or a percentage (25%), found ${opts.serial}`);
  return { retried, rigName: rig.name, rigPath: inRepo, sets, iterations, inventoryPath, allHosts: hosts.length === inventory.hosts.length && !opts.limit, hosts };
}

interface Played {
  exitCode: number | null;
  tail: string[];
}

/** Run ansible-playbook in a process group of its own, its output to the log; on abort, SIGINT to the group (SIGKILL after 20 s). */
function play(argv: string[], env: Record<string, string>, log: (text: string) => void, signal: AbortSignal | null): Promise<Played> {
  return new Promise((done, fail) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const tail = new TailBuffer(8192);
    const take = (chunk: Buffer) => {
      tail.push(chunk);
      log(chunk.toString('utf8'));
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    let killer: NodeJS.Timeout | undefined;
    const stop = () => {
      try {
        process.kill(-child.pid!, 'SIGINT');
      } catch {
        return;
      }
      killer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, 20_000);
    };
    // a second Ctrl-C exits rigor at once (process.exit): ansible-playbook, in a group of its own, goes with it
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    };
    process.once('exit', killGroup);
    if (signal?.aborted) stop();
    signal?.addEventListener('abort', stop, { once: true });
    child.once('error', (error) => {
      process.off('exit', killGroup);
      signal?.removeEventListener('abort', stop);
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      fail(missing ? new InputError(`${argv[0]}: not found; a fleet run needs Ansible (Debian: apt-get install ansible)`) : error);
    });
    child.once('close', (code) => {
      process.off('exit', killGroup);
      clearTimeout(killer);
      signal?.removeEventListener('abort', stop);
      done({ exitCode: code, tail: lastLines(tail.text(), 30).split('\n').filter(Boolean) });
    });
  });
}

function ansibleVersion(): string | null {
  const result = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? (result.stdout.split('\n')[0]?.trim() ?? null) : null;
}

/**
 * What came back from each host: fetchDir/<host>/*.json merged, and the host's
 * rigor.log. A host whose file is not a valid artifact (cut off, say) gets the
 * reason instead; the other hosts' artifacts are merged all the same.
 */
function collectReturns(fetchDir: string, resultsDir: string): { placed: Placed[]; returns: Map<string, HostReturn> } {
  const returns = new Map<string, HostReturn>();
  if (!existsSync(fetchDir)) return { placed: [], returns };
  const found: FoundArtifact[] = [];
  const problems = new Map<string, string>();
  for (const host of readdirSync(fetchDir)) {
    try {
      found.push(...collectArtifacts(join(fetchDir, host)));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      problems.set(host, error.message);
    }
  }
  const placed = applyMerge(planMerge(found, existingIn(resultsDir)), resultsDir);
  for (const host of readdirSync(fetchDir)) {
    const log = join(fetchDir, host, 'rigor.log');
    const mine = placed.filter((p) => relative(join(fetchDir, host), p.step.source.file).split('/').length === 1);
    const artifact = mine.at(-1);
    returns.set(host, {
      artifact: artifact?.path ?? null,
      hostId: artifact?.step.source.artifact.host.id ?? null,
      fingerprint: artifact?.step.source.artifact.host.fingerprint?.id ?? null,
      logTail: existsSync(log) ? lastLines(readFileSync(log, 'utf8'), 20).split('\n') : null,
      problem: problems.get(host) ?? null,
    });
  }
  return { placed, returns };
}

export async function runFleet(opts: FleetRunOptions): Promise<FleetRunResult> {
  const began = performance.now();
  const request = resolveRequest(opts);
  const startedAt = new Date().toISOString();
  const runId = `${startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomUUID().slice(0, 8)}`;
  const workDir = mkdtempSync(join(tmpdir(), 'rigor-fleet-controller-'));
  try {
    const source = packSource(opts.repo, workDir);
    const plan = planFleetRun({
      runId,
      rigPath: request.rigPath,
      sets: request.sets,
      iterations: request.iterations,
      inventory: request.inventoryPath,
      hosts: request.hosts,
      allHosts: request.allHosts,
      forks: opts.forks,
      serial: opts.serial,
      extraArgs: opts.extraArgs,
      fleetDir: FLEET_DIR,
      workDir,
      source,
      ...(process.env.ANSIBLE_CALLBACKS_ENABLED && { callbacksEnabled: process.env.ANSIBLE_CALLBACKS_ENABLED }),
    });
    writeFileSync(plan.varsFile, JSON.stringify(plan.vars, null, 1));
    mkdirSync(plan.fetchDir, { recursive: true });
    opts.log(`rigor fleet run ${runId}: ${request.rigName} on ${request.hosts.join(', ')} at ${source.git.commit!.slice(0, 7)}${source.diff ? ' + working tree changes' : ''}\n`);
    const version = ansibleVersion();
    const played = await play(plan.argv, plan.env, opts.log, opts.signal);
    const interrupted = opts.signal.aborted;
    if (interrupted) {
      opts.log('\nrigor fleet run: interrupted: stopping rigor run on the hosts (fleet/stop.yml)\n');
      // its own task results are not the run's: no events file
      await play(plan.stopArgv, { ...plan.env, RIGOR_FLEET_EVENTS: '' }, opts.log, null);
    }
    const { placed, returns } = collectReturns(plan.fetchDir, opts.resultsDir);
    const events = existsSync(plan.eventsFile) ? parseEvents(readFileSync(plan.eventsFile, 'utf8')) : [];
    const none: HostReturn = { artifact: null, hostId: null, fingerprint: null, logTail: null, problem: null };
    const spans = rigSpans(events, Date.now() / 1000);
    const hosts = request.hosts.map((name) => {
      const span = spans.get(name);
      const back = { ...(returns.get(name) ?? none), rigSeconds: span ? span.end - span.start : null };
      return hostOutcome(name, events, back, { interrupted, exitCode: played.exitCode });
    });
    const measuring = coveredSeconds(spans.values());
    const ok = hosts.filter((host) => host.outcome === 'ok').length;
    const present = placed.filter((p) => p.step.action === 'present').length;
    const record: FleetRecord = {
      schema: 'urn:rigor:fleet-record:v1',
      tool: { name: 'rigor', version: TOOL_VERSION },
      kind: 'run',
      id: runId,
      command_line: opts.commandLine,
      started_at: startedAt,
      finished_at: new Date().toISOString(),
      status: interrupted ? 'interrupted' : ok === hosts.length ? 'complete' : ok === 0 ? 'failed' : 'partial',
      rig: { name: request.rigName, path: request.rigPath },
      overrides: { set: request.sets, iterations: request.iterations },
      source: {
        ...source.git,
        archive_sha256: source.archiveSha256,
        diff_sha256: source.diffSha256,
        diff_file: null,
      },
      ansible: {
        playbook: 'fleet/run.yml',
        inventory: request.inventoryPath,
        limit: request.allHosts ? null : request.hosts.join(','),
        forks: opts.forks,
        serial: opts.serial,
        extra_args: opts.extraArgs,
        version,
        exit_code: played.exitCode,
        output_tail: played.tail,
      },
      // wall_s is set once the record is all but written
      timing: { wall_s: 0, measuring_s: measuring, overhead_s: 0 },
      retry_of: opts.retryFailed,
      hosts,
      notes: [...(present ? [`${present} artifact(s) were already in the results tree and were not written again`] : []), ...sharedHardwareNotes(hosts)],
    };
    if (source.diff) record.source.diff_file = `${runId}.diff`;
    const wall = (performance.now() - began) / 1000;
    record.timing = { wall_s: wall, measuring_s: measuring, overhead_s: wall - measuring };
    const recordPath = writeFleetRecord(record, opts.resultsDir);
    if (source.diff) copyFileSync(source.diff, join(dirname(recordPath), `${runId}.diff`));
    return { record, recordPath };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** The lines `rigor fleet run` ends with: a line per host, the record, and how to retry. */
export function summaryLines(result: FleetRunResult, resultsDir: string): string[] {
  const { record, recordPath } = result;
  const width = Math.max(...record.hosts.map((host) => host.name.length));
  const lines = record.hosts.map((host) => {
    const where = host.artifact ? join(resultsDir, host.artifact) : '';
    return `${host.outcome.padEnd(12)} ${host.name.padEnd(width)}  ${[where, host.reason].filter(Boolean).join('  ')}`;
  });
  lines.push(...record.notes.map((note) => `note: ${note}`));
  if (record.timing) {
    const { wall_s, measuring_s, overhead_s } = record.timing;
    const ms = (s: number) => `${Math.round(s * 1000)} ms`;
    lines.push(`fleet overhead: ${ms(overhead_s)} (${ms(wall_s)} in all, less ${ms(measuring_s)} in which hosts ran rigor run)`);
  }
  lines.push(`fleet record: ${recordPath}`);
  if (record.hosts.some((host) => host.outcome !== 'ok')) lines.push(`retry the hosts that are not ok: rigor fleet run --retry-failed ${recordPath}`);
  return lines;
}
