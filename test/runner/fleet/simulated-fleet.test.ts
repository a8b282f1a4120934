/**
 * rigor fleet run over real SSH and real ansible-playbook, against simulated
 * hosts on this machine (scripts/fleet/simulated-hosts.ts: an sshd each on a
 * loopback address, in its own UTS, mount and pid namespaces): the startup rig
 * on three hosts and one that does not answer, merged and shown side by side;
 * a host killed while rigor run measures on it, reported and retried; Ctrl-C,
 * after which no rigor process is left on a host.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArtifact } from '../../../runner/artifact/read.ts';
import { readFleetRecord } from '../../../runner/fleet/record-file.ts';
import type { FleetRecord } from '../../../runner/fleet/record.ts';
import { collectGit } from '../../../runner/host/git.ts';
import { startSimulatedFleet, type SimulatedFleet, type SimulatedHost } from '../../../scripts/fleet/simulated-hosts.ts';
import { CLI, REPO, rigor } from '../../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-test-fleet-'));
const PAUSE_RIG = 'test/fixtures/rigs/fleet/fleet-pause.rig.yaml';
let fleet: SimulatedFleet;

beforeAll(async () => {
  fleet = await startSimulatedFleet(3, join(dir, 'hosts'), {
    // the checkout's node_modules (same lockfile) instead of npm ci on every host; pipelining: fewer SSH round trips per task
    vars: { rigor_node_modules: join(REPO, 'node_modules'), ansible_pipelining: 'true' },
  });
  // a host nobody answers for: a loopback address and port where nothing listens
  appendFileSync(fleet.inventory, '\n[down]\nsim-down ansible_host=127.31.255.254 ansible_port=9\n');
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function records(results: string, rig: string): FleetRecord[] {
  const folder = join(results, rig, 'fleet');
  return readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => readFleetRecord(join(folder, name)));
}

function artifactsIn(results: string, rig: string): string[] {
  return readdirSync(join(results, rig))
    .filter((name) => name.endsWith('.json'))
    .map((name) => join(results, rig, name));
}

/** rigor fleet run in the background, its exit code once it is done. */
function startFleetRun(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'fleet', 'run', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
  return { child, exited, output: () => output };
}

/** Wait until rigor run is running on every one of `hosts`. */
async function untilMeasuring(hosts: SimulatedHost[], run: { exited: Promise<unknown>; output: () => string }): Promise<void> {
  let done = false;
  void run.exited.then(() => (done = true));
  while (!hosts.every((host) => host.processes().some((p) => p.cmdline.includes('bin/rigor.js run')))) {
    if (done) throw new Error(`rigor fleet run ended before rigor run was seen on ${hosts.map((h) => h.name).join(', ')}:\n${run.output()}`);
    await sleep(50);
  }
}

describe('rigor fleet run on simulated hosts', () => {
  it('runs startup on three hosts through ansible-playbook: three artifacts of one commit, distinct host ids, one shared fingerprint, the host that did not answer recorded', () => {
    const results = join(dir, 'results-startup');
    const run = rigor(['fleet', 'run', 'startup', '--inventory', fleet.inventory, '--set', 'program=true', '--set', 'cache=warm', '--iterations', '2', '--results', results]);
    expect(run.code, run.stderr).toBe(1);
    const [record] = records(results, 'startup');
    expect(record!.hosts.map((h) => [h.name, h.outcome])).toEqual([
      ['sim-1', 'ok'],
      ['sim-2', 'ok'],
      ['sim-3', 'ok'],
      ['sim-down', 'unreachable'],
    ]);
    expect(record!.status).toBe('partial');
    expect(record!.hosts[3]!.reason).toContain('127.31.255.254');
    expect(record!.source.commit).toBe(collectGit(REPO).commit);
    // where the time went: the hosts' rig steps, and the rest the fleet's own
    const timing = record!.timing!;
    expect(timing.measuring_s).toBeGreaterThan(0);
    expect(timing.overhead_s).toBeCloseTo(timing.wall_s - timing.measuring_s, 6);
    expect(record!.hosts.slice(0, 3).every((h) => h.rig_s! > 0)).toBe(true);
    expect(run.stdout).toMatch(/^fleet overhead: \d+ ms \(\d+ ms in all, less \d+ ms in which hosts ran rigor run\)$/m);
    expect(run.stdout).toContain(`retry the hosts that are not ok: rigor fleet run --retry-failed ${join(results, 'startup', 'fleet')}`);

    const artifacts = artifactsIn(results, 'startup').map((path) => readArtifact(path));
    expect(artifacts).toHaveLength(3);
    expect(new Set(artifacts.map((a) => a.host.id)).size).toBe(3);
    expect(artifacts.map((a) => a.host.hostname).sort()).toEqual(['fleet-sim-1', 'fleet-sim-2', 'fleet-sim-3']);
    // one machine: the fingerprint says so, and the record notes it
    expect(new Set(artifacts.map((a) => a.host.fingerprint!.id)).size).toBe(1);
    expect(record!.notes.join('\n')).toContain('sim-1, sim-2 and sim-3 share hardware fingerprint');
    for (const artifact of artifacts) {
      expect(artifact.git.commit).toBe(record!.source.commit);
      expect(artifact.run.overrides).toMatchObject({ program: 'true', cache: 'warm', iterations: 2 });
    }

    const out = join(dir, 'site');
    const site = rigor(['site', '--results', results, '--out', out]);
    expect(site.code, site.stderr).toBe(0);
    const recordName = readdirSync(join(results, 'startup', 'fleet')).find((name) => name.endsWith('.json'))!;
    const page = readFileSync(join(out, 'fleet', 'startup', recordName.replace(/\.json$/, '.html')), 'utf8');
    expect(page).toMatch(/<th>sim-1<\/th><th>sim-2<\/th><th>sim-3<\/th>/);
    expect(page).toContain('unreachable');

    const [a, b] = record!.hosts.map((h) => h.artifact).filter(Boolean) as string[];
    const compared = rigor(['compare', join(results, a!), join(results, b!)]);
    expect(compared.code).toBe(0);
    expect(`${compared.stdout}${compared.stderr}`).toMatch(/different hosts \(fleet-sim-1-[0-9a-f]{6} vs fleet-sim-2-[0-9a-f]{6}\), alike by fingerprint/);
  }, 150_000);

  it('reports a host killed while it measures, keeps the others, and --retry-failed runs only that one again', async () => {
    const results = join(dir, 'results-killed');
    const [, second, third] = fleet.hosts;
    const run = startFleetRun([PAUSE_RIG, '--inventory', fleet.inventory, '--limit', 'sim-2,sim-3', '--results', results]);
    await untilMeasuring([third!], run);
    await third!.kill();
    expect(await run.exited, run.output()).toBe(1);
    const [first] = records(results, 'fleet-pause');
    expect(first!.hosts.map((h) => [h.name, h.outcome, h.stage])).toEqual([
      ['sim-2', 'ok', null],
      ['sim-3', 'lost', 'rig'],
    ]);
    expect(first!.hosts[1]!.reason).toContain('the connection was lost during "rig: rigor run"');
    expect(artifactsIn(results, 'fleet-pause').map((path) => readArtifact(path).host.hostname)).toEqual([second!.hostname]);

    await third!.start();
    const recordPath = join(results, 'fleet-pause', 'fleet', readdirSync(join(results, 'fleet-pause', 'fleet')).find((n) => n.endsWith('.json'))!);
    const retry = rigor(['fleet', 'run', '--retry-failed', recordPath, '--results', results]);
    expect(retry.code, retry.stderr).toBe(0);
    const retried = records(results, 'fleet-pause').find((r) => r.retry_of === recordPath)!;
    expect(retried.hosts.map((h) => [h.name, h.outcome])).toEqual([['sim-3', 'ok']]);
    expect(artifactsIn(results, 'fleet-pause').map((path) => readArtifact(path).host.hostname).sort()).toEqual([second!.hostname, third!.hostname]);
  }, 150_000);

  it('stops on Ctrl-C: exit 130, the hosts recorded as interrupted, no rigor process left on them', async () => {
    const results = join(dir, 'results-interrupted');
    const hosts = fleet.hosts.slice(0, 1);
    const run = startFleetRun([PAUSE_RIG, '--inventory', fleet.inventory, '--limit', 'sim-1', '--iterations', '500', '--results', results]);
    await untilMeasuring(hosts, run);
    run.child.kill('SIGINT');
    expect(await run.exited, run.output()).toBe(130);
    const [record] = records(results, 'fleet-pause');
    expect(record!.status).toBe('interrupted');
    expect(record!.hosts.map((h) => h.outcome)).toEqual(['interrupted']);
    for (const host of hosts) expect(host.processes().filter((p) => /bin\/rigor\.js|^sleep |^timeout /.test(p.cmdline))).toEqual([]);
  }, 150_000);
});
