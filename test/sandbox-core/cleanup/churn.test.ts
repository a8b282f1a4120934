/**
 * 50 sandboxes per backend created and destroyed in small batches, some
 * destroyed while running a command or paused, some whose launcher gets
 * SIGKILL before the agent answered; then everything they could leave is
 * counted: processes, workspaces, mounts. It must be 0.
 */
import { describe, expect, it } from 'vitest';
import { bwrapBackend } from '../../../sandbox-core/backends/bwrap.ts';
import { processBackend } from '../../../sandbox-core/backends/process.ts';
import type { Backend, Sandbox } from '../../../sandbox-core/backends/types.ts';
import { liveSandboxes } from '../../../sandbox-core/cleanup.ts';
import { entriesUnder, membersOfGroups, mountsMentioning, processesWithEnv, settlesToZero, useOwnTmpdir, waitUntil } from '../../helpers/leftovers.ts';

const SANDBOXES = 50;
const BATCH = 5;

const root = useOwnTmpdir('rigor-churn-test-');

const bwrapReady = await bwrapBackend.available();
const owner = `churn-${process.pid}`;

/**
 * Start a create() and SIGKILL its launcher (bwrap, or the agent for
 * `process`) as soon as the registry shows it, before the agent answers.
 * The Node agent's start-up keeps that window wide.
 */
async function killedMidStart(backend: Backend, groups: Set<number>): Promise<'rejected' | 'ready-first'> {
  const known = new Set(liveSandboxes().map((sandbox) => sandbox.id));
  let settled = false;
  const creating = backend.create({ agent: 'node', env: { RIGOR_TEST_OWNER: owner } });
  void creating.then(() => (settled = true), () => (settled = true));
  while (!settled) {
    const fresh = liveSandboxes().find((sandbox) => !known.has(sandbox.id) && sandbox.resources.processGroups.size > 0);
    if (fresh) {
      const [launcher] = fresh.resources.processGroups;
      groups.add(launcher!);
      process.kill(launcher!, 'SIGKILL');
      break;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  try {
    const sandbox = await creating;
    await sandbox.destroy();
    return 'ready-first';
  } catch {
    return 'rejected';
  }
}

/** One normal life; every third one is destroyed mid-command, every fourth paused. */
async function normalLife(backend: Backend, index: number, groups: Set<number>): Promise<void> {
  const sandbox: Sandbox = await backend.create({ env: { RIGOR_TEST_OWNER: owner } });
  for (const pgid of liveSandboxes().find((live) => live.id === sandbox.id)!.resources.processGroups) groups.add(pgid);
  expect((await sandbox.exec({ argv: ['echo', 'hello'] })).stdout.toString()).toBe('hello\n');
  if (index % 3 === 0) {
    const life = `${owner}-${index}`;
    void sandbox.exec({ argv: ['sleep', '60'], env: { RIGOR_TEST_LIFE: life } }).catch(() => undefined);
    expect(await waitUntil(() => processesWithEnv(`RIGOR_TEST_LIFE=${life}`).length === 1)).toBe(true);
  }
  if (index % 4 === 0) await sandbox.pause();
  await sandbox.destroy();
}

describe.each([
  { backend: processBackend as Backend, skip: false },
  { backend: bwrapBackend as Backend, skip: !bwrapReady.ok },
])('$backend.name: create and kill 50 sandboxes', ({ backend, skip }) => {
  it.skipIf(skip)('leaves no process, workspace or mount', async () => {
    const groups = new Set<number>();
    const outcomes: string[] = [];
    for (let start = 0; start < SANDBOXES; start += BATCH) {
      // Of every five: two SIGKILLed mid-start one after the other (so each kill finds its own), three living side by side.
      outcomes.push(await killedMidStart(backend, groups), await killedMidStart(backend, groups));
      const lives = [2, 3, 4].map((offset) => normalLife(backend, start + offset, groups).then(() => 'destroyed'));
      outcomes.push(...(await Promise.all(lives)));
    }

    expect(outcomes.filter((outcome) => outcome === 'rejected').length).toBe(20);
    expect(outcomes.filter((outcome) => outcome === 'destroyed').length).toBe(30);
    expect(liveSandboxes().filter((sandbox) => sandbox.backend === backend.name)).toEqual([]);
    expect(await settlesToZero(() => processesWithEnv(`RIGOR_SANDBOX_ID=${backend.name}-${process.pid}-`).length)).toBe(0);
    expect(await settlesToZero(() => processesWithEnv(`RIGOR_TEST_OWNER=${owner}`).length)).toBe(0);
    expect(await settlesToZero(() => membersOfGroups(groups).length)).toBe(0);
    expect(entriesUnder(root).filter((name) => name.startsWith(`rigor-${backend.name}-`))).toEqual([]);
    expect(mountsMentioning(root)).toEqual([]);
  }, 180_000);
});
