/** Looking in /proc for what a test started, to prove nothing was left behind. */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** State letter and process group of a pid, or null when it no longer exists (a zombie counts as gone). */
function stat(pid: number): { state: string; ppid: number; pgrp: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = fields[0] as string;
    return state === 'Z' || state === 'X' ? null : { state, ppid: Number(fields[1]), pgrp: Number(fields[2]) };
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  return stat(pid) !== null;
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** Live members of a process group. */
export function groupMembers(pgid: number): number[] {
  return allPids().filter((pid) => stat(pid)?.pgrp === pgid);
}

/** Live children of a process. */
export function childrenOf(parent: number): number[] {
  return allPids().filter((pid) => stat(pid)?.ppid === parent);
}

/** Poll until `check` holds or `ms` pass; returns the last result. */
export async function waitFor<T>(check: () => T, ms = 3000): Promise<T> {
  const until = performance.now() + ms;
  let value = check();
  while (!value && performance.now() < until) {
    await sleep(20);
    value = check();
  }
  return value;
}
