/**
 * The Sandbox contract on the real process and bwrap backends: phases,
 * exec, files, pause/resume, stats and a destroy that leaves nothing.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bwrapBackend } from '../../../sandbox-core/backends/bwrap.ts';
import { processBackend } from '../../../sandbox-core/backends/process.ts';
import type { Backend, Sandbox } from '../../../sandbox-core/backends/types.ts';
import { liveSandboxes } from '../../../sandbox-core/cleanup.ts';
import { hostIdLocksOf, limitCgroupsOf, processesMentioning, processesWithEnv, settlesToZero, waitUntil } from '../../helpers/leftovers.ts';

const originalTmpdir = process.env.TMPDIR;
const root = mkdtempSync(join(tmpdir(), 'rigor-lifecycle-test-'));
beforeAll(() => {
  process.env.TMPDIR = root; // every workspace of this file lands here, so leftovers are countable
});
afterAll(() => {
  // Assigning undefined would set the string "undefined".
  if (originalTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = originalTmpdir;
  rmSync(root, { recursive: true, force: true });
});

const bwrapReady = await bwrapBackend.available();

/** Processes still carrying this sandbox's id in their environment. */
const processesOf = (sandbox: Sandbox) => () => processesWithEnv(`RIGOR_SANDBOX_ID=${sandbox.id}`).length;

describe.each([
  { backend: processBackend as Backend, skip: false },
  { backend: bwrapBackend as Backend, skip: !bwrapReady.ok },
])('$backend.name backend', ({ backend, skip }) => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    if (!skip) sandbox = await backend.create({ env: { GREETING: 'from-spec' } });
  });
  afterAll(async () => {
    await sandbox?.destroy();
  });

  it.skipIf(skip)('records launched <= connected <= ready on the host clock and the agent start stage', () => {
    const { launched, connected, ready } = sandbox.phases;
    expect(launched).toBeGreaterThanOrEqual(0);
    expect(connected).toBeGreaterThanOrEqual(launched!);
    expect(ready).toBeGreaterThanOrEqual(connected!);
    expect(sandbox.bootStages.map((stage) => stage.name)).toContain('agent_start');
  });

  it.skipIf(skip)('runs echo hello through the agent, with the spec env under the request env', async () => {
    const result = await sandbox.exec({ argv: ['echo', 'hello'] });
    expect(result).toMatchObject({ exitCode: 0, signal: null, timedOut: false });
    expect(result.stdout.toString()).toBe('hello\n');
    expect(result.roundTripMs).toBeGreaterThan(0);
    expect(result.guest.exited).toBeGreaterThanOrEqual(result.guest.spawned);

    const env = await sandbox.exec({ argv: ['sh', '-c', 'echo "$GREETING $OTHER"'], env: { OTHER: 'from-request' } });
    expect(env.stdout.toString()).toBe('from-spec from-request\n');
  });

  it.skipIf(skip)('writes and reads a file in the workspace that commands see', async () => {
    await sandbox.writeFile('note.txt', 'written by the host\n');
    expect((await sandbox.readFile('note.txt')).toString()).toBe('written by the host\n');
    const cat = await sandbox.exec({ argv: ['cat', 'note.txt'] });
    expect(cat.stdout.toString()).toBe('written by the host\n');
  });

  it.skipIf(skip)('holds an exec started while paused until resume', async () => {
    await sandbox.pause();
    let done = false;
    const pending = sandbox.exec({ argv: ['echo', 'after-resume'] }).then((result) => {
      done = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(done).toBe(false);
    await sandbox.resume();
    expect((await pending).stdout.toString()).toBe('after-resume\n');
  });

  it.skipIf(skip)('reports its host memory as PSS above zero', async () => {
    const stats = await sandbox.stats();
    expect(stats.memory.kind).toBe('pss');
    expect(stats.memory.bytes).toBeGreaterThan(0);
    // process: the agent; bwrap: bwrap, the sandbox's pid 1 and the agent.
    expect(stats.processes).toBe(backend.name === 'bwrap' ? 3 : 1);
  });

  it.skipIf(skip)('starts the Node agent when the spec asks for it', async () => {
    const node = await backend.create({ agent: 'node' });
    try {
      expect((await node.exec({ argv: ['echo', 'hello'] })).stdout.toString()).toBe('hello\n');
    } finally {
      await node.destroy();
    }
  });

  it.skipIf(skip)('destroy is idempotent and leaves no process, command or workspace, even when paused mid-command', async () => {
    const doomed = await backend.create({ env: { RIGOR_TEST_DOOMED: doomedMarker(backend) } });
    const commands = () => processesWithEnv(`RIGOR_TEST_DOOMED=${doomedMarker(backend)}`).length;
    const sleeping = doomed.exec({ argv: ['sleep', '60'] }).catch((error: Error) => error);
    expect(await waitUntil(() => commands() === 1)).toBe(true);
    await doomed.pause();
    const workspaces = () => readdirSync(root).filter((name) => name.startsWith(`rigor-${backend.name}-`)).length;
    const before = workspaces();

    await Promise.all([doomed.destroy(), doomed.destroy()]);
    await doomed.destroy();

    expect(await sleeping).toBeInstanceOf(Error);
    await expect(doomed.ping()).rejects.toThrow(/destroyed/);
    // bwrap's workspace is a tmpfs inside the sandbox: no host dir; what it holds on the host is cgroups.
    expect(workspaces()).toBe(backend.name === 'bwrap' ? 0 : before - 1);
    expect(limitCgroupsOf(doomed.id)).toEqual([]);
    expect(await settlesToZero(processesOf(doomed))).toBe(0);
    expect(await settlesToZero(commands)).toBe(0);
    expect(liveSandboxes().map((live) => live.id)).not.toContain(doomed.id);
  });
});

function doomedMarker(backend: Backend): string {
  return `${backend.name}-${process.pid}`;
}

describe.skipIf(!bwrapReady.ok)('bwrap create failures', () => {
  it('rejects a workspace path it cannot make, naming the field, and leaves nothing', async () => {
    const before = readdirSync(root).length;
    await expect(bwrapBackend.create({ workspacePath: 'relative/ws' })).rejects.toThrow(/workspacePath: expected an absolute normalized path/);
    expect(readdirSync(root).length).toBe(before);
  });

  it('rejects a limit, seccomp setting or syscall name it cannot apply, naming the field, before any uid is taken', async () => {
    const held = hostIdLocksOf(process.pid).length;
    await expect(bwrapBackend.create({ memoryMiB: 0 })).rejects.toThrow(/sandbox spec memoryMiB: expected a whole number >= 1, found 0/);
    await expect(bwrapBackend.create({ seccomp: 'off' as 'unconfined' })).rejects.toThrow(/sandbox spec seccomp: expected "default" or "unconfined", found "off"/);
    await expect(bwrapBackend.create({ allowSyscalls: ['getpid'] })).rejects.toThrow(/sandbox spec allowSyscalls: .*found "getpid"/);
    expect(hostIdLocksOf(process.pid)).toHaveLength(held);
  });

  it('gives up after readyTimeoutMs and reclaims the half-started sandbox', async () => {
    const before = readdirSync(root).length;
    await expect(bwrapBackend.create({ agent: 'node', readyTimeoutMs: 20 })).rejects.toThrow(/did not answer within 20 ms/);
    expect(readdirSync(root).length).toBe(before);
    expect(await settlesToZero(() => processesMentioning(root).length)).toBe(0);
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    const creating = bwrapBackend.create({ agent: 'node' }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('caller gave up')), 10);
    await expect(creating).rejects.toThrow('caller gave up');
  });
});
