import { describe, expect, it } from 'vitest';
import { planFleetRun, rigRunArgs } from '../../../runner/fleet/plan.ts';

const input = {
  runId: 'r1',
  rigPath: 'rigs/startup.rig.yaml',
  sets: ['program=true'],
  iterations: 3,
  inventory: 'hosts.ini',
  hosts: ['a', 'b'],
  allHosts: false,
  forks: 4,
  serial: '1',
  extraArgs: ['-e', 'ansible_user=bench'],
  fleetDir: '/repo/fleet',
  workDir: '/tmp/w',
  source: {
    git: { commit: 'c'.repeat(40), branch: 'main', dirty: true, dirty_paths: ['x.ts'] },
    archive: '/tmp/w/source.tar.gz',
    archiveSha256: 'a'.repeat(64),
    diff: '/tmp/w/changes.diff',
    diffSha256: 'b'.repeat(64),
  },
};

describe('planFleetRun', () => {
  it("passes the hosts, --forks and Ansible's own options to ansible-playbook, and the rest as variables", () => {
    const plan = planFleetRun(input);
    expect(plan.argv).toEqual([
      'ansible-playbook', '-i', 'hosts.ini', '/repo/fleet/run.yml', '-e', '@/tmp/w/vars.json', '--limit', 'a,b', '--forks', '4', '-e', 'ansible_user=bench',
    ]);
    expect(plan.vars).toMatchObject({
      rigor_run_id: 'r1',
      rigor_rig: 'rigs/startup.rig.yaml',
      rigor_run_args: ['--set', 'program=true', '--iterations', '3'],
      rigor_diff: '/tmp/w/changes.diff',
      rigor_serial: '1',
      rigor_source: { commit: 'c'.repeat(40), dirty: true, dirty_paths: ['x.ts'] },
    });
    expect(plan.stopArgv).toEqual(['ansible-playbook', '-i', 'hosts.ini', '/repo/fleet/stop.yml', '-e', 'rigor_run_id=r1', '--limit', 'a,b', '-e', 'ansible_user=bench']);
    expect(plan.env.ANSIBLE_CALLBACKS_ENABLED).toBe('rigor_events');
  });

  it('asks no --limit when every host is asked, sends no diff for a clean tree, and keeps the user\'s callbacks', () => {
    const plan = planFleetRun({ ...input, allHosts: true, forks: null, serial: null, extraArgs: [], source: { ...input.source, diff: null, diffSha256: null }, callbacksEnabled: 'profile_tasks' });
    expect(plan.argv).not.toContain('--limit');
    expect(plan.vars).not.toHaveProperty('rigor_diff');
    expect(plan.vars).not.toHaveProperty('rigor_serial');
    expect(plan.env.ANSIBLE_CALLBACKS_ENABLED).toBe('rigor_events,profile_tasks');
  });

  it('gives rigor run no --iterations when none was asked', () => {
    expect(rigRunArgs([], null)).toEqual([]);
  });
});
