/** Bad input to rigor fleet run is an error before anything runs: no host is contacted, nothing is written. */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rigor } from '../../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-test-fleet-run-'));
// 127.0.0.0/8 addresses where nothing listens: a run that got as far as SSH would fail there, not here
const inventory = join(dir, 'hosts.ini');
writeFileSync(inventory, '[fleet]\nh1 ansible_host=127.31.0.2 ansible_port=1\nh2 ansible_host=127.31.0.3 ansible_port=1\n');

function refused(args: string[]): string {
  const results = mkdtempSync(join(dir, 'results-'));
  const result = rigor(['fleet', 'run', ...args, '--results', results]);
  expect(result.code).toBe(2);
  expect(readdirSync(results)).toEqual([]);
  expect(result.stderr).not.toContain('PLAY');
  return result.stderr;
}

describe('rigor fleet run refuses bad input before anything runs', () => {
  it('an inventory Ansible cannot parse', () => {
    const bad = join(dir, 'bad.ini');
    writeFileSync(bad, '[fleet\nh1 ansible_host=\n');
    expect(refused(['startup', '--inventory', bad])).toContain(`${bad}: expected an Ansible inventory, found one Ansible cannot parse`);
  });

  it('an unknown host in --limit', () => {
    expect(refused(['startup', '--inventory', inventory, '--limit', 'h1,h9'])).toContain(`--limit: "h9" names no host or group of ${inventory} (hosts: h1, h2; groups: fleet)`);
  });

  it('a rig that does not exist', () => {
    expect(refused(['startpu', '--inventory', inventory])).toContain('no rig named "startpu"');
  });

  it('a --set the rig does not have', () => {
    expect(refused(['startup', '--inventory', inventory, '--set', 'sampling.nonsense=1'])).toContain('sampling.nonsense');
  });

  it('no inventory, and a --serial Ansible would not take', () => {
    expect(refused(['startup'])).toContain('--inventory: expected an Ansible inventory file, found none');
    expect(refused(['startup', '--inventory', inventory, '--serial', 'half'])).toContain('--serial: expected a number of hosts (2) or a percentage (25%), found half');
  });
});
