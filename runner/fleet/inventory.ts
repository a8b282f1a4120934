/**
 * The hosts of an Ansible inventory, as Ansible itself reads it
 * (`ansible-inventory --list`), and a --limit checked against them: a name
 * that is neither a host nor a group is an error before anything runs.
 */
import { spawnSync } from 'node:child_process';
import { InputError } from '../../base/errors.ts';

/** Make Ansible fail on an inventory it cannot parse, instead of warning and going on with no hosts. */
export const STRICT_INVENTORY_ENV = { ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true', ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED: 'true' };

export interface Inventory {
  path: string;
  /** Every host, in the order the inventory lists them (groups depth first from `all`). */
  hosts: string[];
  groups: Map<string, string[]>;
}

type ListedGroup = { hosts?: string[]; children?: string[] };

/** `ansible-inventory --list` output to hosts and groups. Pure. */
export function parseInventoryList(path: string, json: string): Inventory {
  const listed = JSON.parse(json) as Record<string, ListedGroup> & { _meta?: { hostvars?: Record<string, unknown> } };
  const groups = new Map<string, string[]>();
  const membersOf = (name: string, seen: Set<string>): string[] => {
    if (seen.has(name)) return [];
    seen.add(name);
    const group = listed[name] ?? {};
    const members = [...(group.hosts ?? []), ...(group.children ?? []).flatMap((child) => membersOf(child, seen))];
    const unique = [...new Set(members)];
    groups.set(name, unique);
    return unique;
  };
  const ordered = membersOf('all', new Set());
  for (const name of Object.keys(listed)) if (name !== '_meta' && !groups.has(name)) membersOf(name, new Set());
  // a host only in hostvars (no group lists it) still belongs to all
  const hosts = [...new Set([...ordered, ...Object.keys(listed._meta?.hostvars ?? {})])];
  groups.set('all', hosts);
  return { path, hosts, groups };
}

export function readInventory(path: string): Inventory {
  const result = spawnSync('ansible-inventory', ['--list', '-i', path], {
    encoding: 'utf8',
    env: { ...process.env, ...STRICT_INVENTORY_ENV },
    maxBuffer: 1 << 28,
  });
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new InputError(
      missing ? 'ansible-inventory: not found; a fleet run needs Ansible (Debian: apt-get install ansible)' : `ansible-inventory: ${result.error.message}`,
    );
  }
  const said = `${result.stderr}`.trim().split('\n').filter(Boolean).slice(-6).join('\n  ');
  if (result.status !== 0) throw new InputError(`${path}: expected an Ansible inventory, found one Ansible cannot parse (ansible-inventory --list -i ${path}):\n  ${said}`);
  const inventory = parseInventoryList(path, result.stdout);
  if (inventory.hosts.length === 0) throw new InputError(`${path}: expected an Ansible inventory with at least one host, found none`);
  return inventory;
}

/**
 * The hosts a --limit leaves, as Ansible reads its patterns: terms split by
 * "," or ":", "!" excludes, "&" intersects. A term that is a plain name must
 * name a host or a group; wildcards ("web*") and regexes ("~...") must match
 * at least one. Pure.
 */
export function applyLimit(inventory: Inventory, limit: string): string[] {
  const terms = limit.split(/[,:]/).map((term) => term.trim()).filter(Boolean);
  if (terms.length === 0) throw new InputError(`--limit: expected host or group names, found "${limit}"`);
  const unknown: string[] = [];
  const match = (pattern: string): string[] => {
    if (inventory.groups.has(pattern)) return inventory.groups.get(pattern)!;
    if (inventory.hosts.includes(pattern)) return [pattern];
    let found: string[] = [];
    if (pattern.startsWith('~')) {
      const regex = new RegExp(pattern.slice(1));
      found = [...inventory.hosts.filter((h) => regex.test(h)), ...[...inventory.groups.keys()].filter((g) => regex.test(g)).flatMap((g) => inventory.groups.get(g)!)];
    } else if (/[*?[]/.test(pattern)) {
      const regex = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`);
      found = [...inventory.hosts.filter((h) => regex.test(h)), ...[...inventory.groups.keys()].filter((g) => regex.test(g)).flatMap((g) => inventory.groups.get(g)!)];
    }
    if (found.length === 0) unknown.push(pattern);
    return found;
  };
  let chosen = new Set<string>();
  const intersections: string[][] = [];
  const exclusions: string[][] = [];
  for (const term of terms) {
    if (term.startsWith('!')) exclusions.push(match(term.slice(1)));
    else if (term.startsWith('&')) intersections.push(match(term.slice(1)));
    else for (const host of match(term)) chosen.add(host);
  }
  if (unknown.length > 0) {
    const groups = [...inventory.groups.keys()].filter((g) => g !== 'all' && g !== 'ungrouped');
    throw new InputError(
      `--limit: ${unknown.map((u) => `"${u}"`).join(', ')} ${unknown.length === 1 ? 'names' : 'name'} no host or group of ${inventory.path} ` +
        `(hosts: ${inventory.hosts.join(', ')}${groups.length ? `; groups: ${groups.join(', ')}` : ''})`,
    );
  }
  // only exclusions ("!db"): every host but those, as Ansible reads it
  if (!terms.some((term) => !term.startsWith('!') && !term.startsWith('&'))) chosen = new Set(inventory.hosts);
  for (const only of intersections) chosen = new Set([...chosen].filter((h) => only.includes(h)));
  for (const out of exclusions) for (const host of out) chosen.delete(host);
  const hosts = inventory.hosts.filter((h) => chosen.has(h));
  if (hosts.length === 0) throw new InputError(`--limit ${limit}: leaves no host of ${inventory.path} to run on`);
  return hosts;
}
