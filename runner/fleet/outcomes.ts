/**
 * Each host's outcome from what Ansible reported (fleet/callback_plugins/
 * rigor_events.py writes a line per task result) and what came back. The
 * playbook's task names start with their step ("rig: rigor run"), which
 * names the step that failed. Pure.
 */
import type { FleetHost, HostOutcome } from './record.ts';

export interface AnsibleEvent {
  host: string;
  task: string;
  status: 'start' | 'ok' | 'failed' | 'ignored' | 'unreachable' | 'skipped';
  msg?: string | null;
  rc?: number | null;
  stdout_tail?: string[];
  stderr_tail?: string[];
  /** Seconds since the epoch, when the callback wrote it. */
  time?: number;
}

/** The lines of the events file that parse; a line cut off by a kill is passed over. */
export function parseEvents(text: string): AnsibleEvent[] {
  return text.split('\n').flatMap((line) => {
    try {
      const event = JSON.parse(line) as AnsibleEvent;
      return typeof event.host === 'string' && typeof event.task === 'string' ? [event] : [];
    } catch {
      return [];
    }
  });
}

/** "rig: rigor run" → "rig"; a task without a step prefix → null. */
export function stageOf(task: string): string | null {
  return /^([a-z]+):/.exec(task)?.[1] ?? null;
}

const FAILED_AS: Record<string, HostOutcome> = { copy: 'setup-failed', npm: 'setup-failed', setup: 'setup-failed', rig: 'rig-failed', fetch: 'fetch-failed' };

export interface HostReturn {
  /** The artifact merged from this host (<rig>/<file>.json), null when none came back. */
  artifact: string | null;
  hostId: string | null;
  fingerprint: string | null;
  /** The last lines of the host's rigor run output, when it came back. */
  logTail: string[] | null;
  /** Why what came back is not a valid artifact; null when it is (or nothing came). */
  problem: string | null;
  /** How long its rig step took (timing.ts); absent when it never started. */
  rigSeconds?: number | null;
}

export interface RunEnd {
  interrupted: boolean;
  /** ansible-playbook's exit code; null when it was killed. */
  exitCode: number | null;
}

function oneLine(text: string | null | undefined): string {
  return (text ?? '').replace(/\s+/g, ' ').trim();
}

/** One host's outcome. */
export function hostOutcome(name: string, events: AnsibleEvent[], back: HostReturn, end: RunEnd): FleetHost {
  const mine = events.filter((event) => event.host === name && event.status !== 'start');
  const answered = mine.some((event) => event.status !== 'unreachable');
  const failure = mine.find((event) => (event.status === 'failed' || event.status === 'unreachable') && stageOf(event.task) !== 'clean');
  const base = { name, answered, artifact: back.artifact, host_id: back.hostId, fingerprint: back.fingerprint, rig_s: back.rigSeconds ?? null };
  const eventTail = (event: AnsibleEvent) => [...(event.stdout_tail ?? []), ...(event.stderr_tail ?? [])].slice(-20);
  if (failure) {
    const stage = stageOf(failure.task);
    const said = [oneLine(failure.msg), oneLine(failure.stderr_tail?.at(-1))].filter(Boolean).join(': ') || 'no message';
    const log_tail = back.logTail ?? eventTail(failure);
    if (failure.status === 'unreachable') {
      return answered
        ? { ...base, outcome: 'lost', stage, reason: `the connection was lost during "${failure.task}" (the host went down or was killed): ${said}`, log_tail }
        : { ...base, outcome: 'unreachable', stage, reason: `unreachable: ${said}`, log_tail };
    }
    return { ...base, outcome: FAILED_AS[stage ?? ''] ?? 'setup-failed', stage, reason: `"${failure.task}" failed: ${said}`, log_tail };
  }
  // the artifact is fetched last: when it is here, every step before it succeeded
  if (back.artifact) return { ...base, outcome: 'ok', stage: null, reason: null, log_tail: back.logTail ?? [] };
  if (back.problem) return { ...base, outcome: 'fetch-failed', stage: 'fetch', reason: back.problem, log_tail: back.logTail ?? [] };
  const lastStage = mine.length > 0 ? stageOf(mine.at(-1)!.task) : null;
  if (end.interrupted) {
    return { ...base, outcome: 'interrupted', stage: lastStage, reason: mine.length ? `interrupted (Ctrl-C) after "${mine.at(-1)!.task}"` : 'interrupted (Ctrl-C) before the host was reached', log_tail: back.logTail ?? [] };
  }
  if (mine.length === 0) {
    const code = end.exitCode === null ? 'was killed' : `exited ${end.exitCode}`;
    return { ...base, outcome: 'not-reached', stage: null, reason: `ansible-playbook ${code} before it came to this host`, log_tail: [] };
  }
  return { ...base, outcome: 'fetch-failed', stage: 'fetch', reason: 'rigor run wrote no artifact, and no step reported a failure', log_tail: back.logTail ?? [] };
}
