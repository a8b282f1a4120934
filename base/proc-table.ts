/**
 * Which host processes belong to a sandbox, read from /proc: the tree under a
 * launcher pid and the members of process groups. Reads are synchronous
 * because procfs files are tiny and a scan of a few hundred of them is faster
 * without the thread pool round trips.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcEntry {
  pid: number;
  ppid: number;
  pgid: number;
  /** One-letter state from /proc/<pid>/stat: R, S, T (stopped), Z, ... */
  state: string;
}

/** One line of /proc/<pid>/stat parsed; null when it is not one (the comm may hold spaces and parentheses). */
export function parseStat(text: string): ProcEntry | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).split(' ');
  const pid = Number.parseInt(text, 10);
  const ppid = Number(fields[1]);
  const pgid = Number(fields[2]);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || !Number.isInteger(pgid)) return null;
  return { pid, ppid, pgid, state: fields[0] ?? '?' };
}

/** Every process visible in /proc now; ones that exit during the scan are left out. */
export function readProcTable(): ProcEntry[] {
  const entries: ProcEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const entry = parseStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (entry) entries.push(entry);
    } catch {
      // exited between readdir and read
    }
  }
  return entries;
}

/** `root` and its descendants in `table`, parents before children; empty when root is not there. */
export function descendants(table: ProcEntry[], root: number): number[] {
  const children = new Map<number, number[]>();
  let rootSeen = false;
  for (const entry of table) {
    if (entry.pid === root) rootSeen = true;
    const siblings = children.get(entry.ppid);
    if (siblings) siblings.push(entry.pid);
    else children.set(entry.ppid, [entry.pid]);
  }
  if (!rootSeen) return [];
  const order = [root];
  for (let index = 0; index < order.length; index += 1) order.push(...(children.get(order[index]!) ?? []));
  return order;
}

/**
 * Processes of a sandbox: the tree under `root` plus every member of `groups`
 * (a child that double-forked away from the tree keeps its group), parents
 * first.
 */
export function sandboxProcesses(root: number, groups: Iterable<number>, table: ProcEntry[] = readProcTable()): number[] {
  const pids = descendants(table, root);
  const seen = new Set(pids);
  const wanted = new Set(groups);
  for (const entry of table) {
    if (wanted.has(entry.pgid) && !seen.has(entry.pid)) {
      seen.add(entry.pid);
      pids.push(entry.pid);
    }
  }
  return pids;
}
