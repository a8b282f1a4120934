import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyLimit, parseInventoryList, readInventory } from '../../../runner/fleet/inventory.ts';

const listed = JSON.stringify({
  _meta: { hostvars: { a: {}, b: {}, c: {}, d: {} } },
  all: { children: ['ungrouped', 'kvm', 'arm'] },
  ungrouped: { hosts: ['d'] },
  kvm: { hosts: ['a', 'b'] },
  arm: { hosts: ['c'] },
});
const inventory = parseInventoryList('hosts.ini', listed);

describe('parseInventoryList', () => {
  it('lists every host once, groups depth first from all, and each group with its members', () => {
    expect(inventory.hosts).toEqual(['d', 'a', 'b', 'c']);
    expect(inventory.groups.get('kvm')).toEqual(['a', 'b']);
  });
});

describe('applyLimit', () => {
  it("reads Ansible's patterns: hosts, groups, wildcards, exclusions and intersections", () => {
    expect(applyLimit(inventory, 'kvm')).toEqual(['a', 'b']);
    expect(applyLimit(inventory, 'c,a')).toEqual(['a', 'c']);
    expect(applyLimit(inventory, 'all:!kvm')).toEqual(['d', 'c']);
    expect(applyLimit(inventory, '!arm')).toEqual(['d', 'a', 'b']);
    expect(applyLimit(inventory, 'all:&kvm')).toEqual(['a', 'b']);
    expect(applyLimit(inventory, 'k?m')).toEqual(['a', 'b']);
    expect(applyLimit(inventory, '~^(c|d)$')).toEqual(['d', 'c']);
  });

  it('refuses a name that is no host or group, saying which there are', () => {
    expect(() => applyLimit(inventory, 'a,nope')).toThrow('--limit: "nope" names no host or group of hosts.ini (hosts: d, a, b, c; groups: kvm, arm)');
  });

  it('refuses a limit that leaves no host', () => {
    expect(() => applyLimit(inventory, 'kvm:!kvm')).toThrow('leaves no host');
  });
});

describe('readInventory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rigor-test-inventory-'));

  it('reads an INI inventory through ansible-inventory', () => {
    const path = join(dir, 'good.ini');
    writeFileSync(path, '[fleet]\nx1 ansible_host=127.0.0.9\nx2 ansible_host=127.0.0.10\n');
    expect(readInventory(path).hosts).toEqual(['x1', 'x2']);
  });

  it('refuses an inventory Ansible cannot parse, naming the file and quoting Ansible', () => {
    const path = join(dir, 'bad.ini');
    writeFileSync(path, '[fleet\nx1 ansible_host=\n');
    expect(() => readInventory(path)).toThrow(new RegExp(`${path}: expected an Ansible inventory, found one Ansible cannot parse[\\s\\S]*Completely failed to parse`));
  });

  it('refuses an inventory with no hosts', () => {
    const path = join(dir, 'empty.yml');
    writeFileSync(path, 'all:\n  hosts: {}\n');
    expect(() => readInventory(path)).toThrow(`${path}: expected an Ansible inventory with at least one host, found none`);
  });
});
