import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runcBackend } from '../../../../sandbox-core/backends/runc.ts';
import type { RuncSandbox } from '../../../../sandbox-core/backends/runc/sandbox.ts';
import { runcList } from '../../../../sandbox-core/backends/runc/runc-cli.ts';

const availability = await runcBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;

describe.skipIf(!availability.ok)(`runc sandbox lifecycle${skipReason}`, () => {
  let sandbox: RuncSandbox;
  beforeAll(async () => {
    sandbox = (await runcBackend.create({ env: { GREETING: 'from-spec' } })) as RuncSandbox;
  });
  afterAll(async () => {
    await sandbox?.destroy();
  });

  it('records launched < connected < ready on the host clock, and the agent start on the guest clock', () => {
    const { launched, connected, ready } = sandbox.phases;
    expect(launched).toBeGreaterThan(0);
    expect(connected).toBeGreaterThan(launched!);
    expect(ready).toBeGreaterThanOrEqual(connected!);
    expect(sandbox.bootStages.map((stage) => stage.name)).toContain('agent_start');
  });

  it('runs a command through the agent', async () => {
    const result = await sandbox.exec({ argv: ['echo', 'hello'] });
    expect(result.stdout.toString()).toBe('hello\n');
    expect(result.exitCode).toBe(0);
    expect(result.roundTripMs).toBeGreaterThan(0);
  });

  it('passes the spec env under the request env, and stdin', async () => {
    const result = await sandbox.exec({ argv: ['sh', '-c', 'echo $GREETING $OTHER; cat'], env: { OTHER: 'req' }, stdin: 'in' });
    expect(result.stdout.toString()).toBe('from-spec req\nin');
  });

  it('runs the agent as pid 1 of its own container, listed in the private state root', async () => {
    expect((await sandbox.exec({ argv: ['cat', '/proc/1/comm'] })).stdout.toString()).toBe('rigor-agent\n');
    expect(await runcList(sandbox.paths.state)).toEqual([sandbox.id]);
  });

  it('writes and reads files in /workspace, a tmpfs of the command user with no host directory behind it', async () => {
    await sandbox.writeFile('/workspace/note.txt', 'written by the host');
    expect((await sandbox.readFile('/workspace/note.txt')).toString()).toBe('written by the host');
    const made = await sandbox.exec({ argv: ['sh', '-c', 'echo made inside > /workspace/inside.txt; pwd; stat -c "%u:%g %n" /workspace /workspace/note.txt; grep " /workspace " /proc/mounts'] });
    const [pwd, ownerDir, ownerFile, mount] = made.stdout.toString().trim().split('\n');
    expect(pwd).toBe('/workspace');
    expect(ownerDir).toBe('1000:1000 /workspace');
    // a file the host writes belongs to the command user, like one a command writes
    expect(ownerFile).toBe('1000:1000 /workspace/note.txt');
    expect(mount).toMatch(/^tmpfs \/workspace tmpfs /);
    expect((await sandbox.readFile('/workspace/inside.txt')).toString()).toBe('made inside\n');
    // the sandbox's host temp dir holds runc's bundle and state only
    expect(readdirSync(sandbox.paths.dir).sort()).toEqual(['bundle', 'state']);
  });

  it('holds an exec while paused (freezer cgroup) and answers it after resume', async () => {
    await sandbox.pause();
    const freezer = sandbox.cgroups.find((entry) => entry.controllers.includes('freezer'))!.dir;
    expect(readFileSync(join(freezer, 'freezer.state'), 'utf8').trim()).toBe('FROZEN');
    let answered = false;
    const pending = sandbox.exec({ argv: ['echo', 'after'] }).then((result) => {
      answered = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answered).toBe(false);
    await sandbox.resume();
    expect((await pending).stdout.toString()).toBe('after\n');
    expect(readFileSync(join(freezer, 'freezer.state'), 'utf8').trim()).toBe('THAWED');
  });

  it('reports the PSS of runc run and the container processes', async () => {
    const stats = await sandbox.stats();
    expect(stats.memory.kind).toBe('pss');
    expect(stats.memory.method).toMatch(/pids cgroup/);
    // runc run and the agent at least; each costs well over 100 KiB
    expect(stats.processes).toBeGreaterThanOrEqual(2);
    expect(stats.memory.bytes).toBeGreaterThan(200 * 1024);
  });

  it('leaves nothing after destroy, and a second destroy is a no-op', async () => {
    const other = (await runcBackend.create()) as RuncSandbox;
    await other.destroy();
    await other.destroy();
    expect(existsSync(other.paths.dir)).toBe(false);
    for (const { dir } of other.cgroups) expect(existsSync(dir), dir).toBe(false);
    await expect(other.exec({ argv: ['true'] })).rejects.toThrow(/destroyed/);
  });
});

describe.skipIf(!availability.ok)(`runc with the Node agent${skipReason}`, () => {
  it('runs the host node from a read-only /usr bind', async () => {
    const sandbox = await runcBackend.create({ agent: 'node' });
    try {
      const result = await sandbox.exec({ argv: ['sh', '-c', 'echo hello; touch /usr/x'] });
      expect(result.stdout.toString()).toBe('hello\n');
      expect(result.stderr.toString()).toMatch(/Read-only file system/);
    } finally {
      await sandbox.destroy();
    }
  });
});

describe.skipIf(!availability.ok)(`runc create aborted${skipReason}`, () => {
  it('rejects at once with an aborted signal, and mid-start leaves nothing', async () => {
    await expect(runcBackend.create({}, { signal: AbortSignal.abort(new Error('not wanted')) })).rejects.toThrow(/not wanted/);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('changed my mind')), 5);
    await expect(runcBackend.create({}, { signal: controller.signal })).rejects.toThrow(/changed my mind/);
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith(`rigor-runc-${process.pid}-`))).toEqual([]);
  });
});

describe.skipIf(!availability.ok)(`runc spec checks${skipReason}`, () => {
  it('refuses a workspace the read-only rootfs has no mount point for', async () => {
    await expect(runcBackend.create({ workspacePath: '/home/me' })).rejects.toThrow(/spec.workspacePath: expected \/workspace, a directory of the rootfs or a path under \/tmp, found "\/home\/me"/);
  });

  it('accepts a workspace under /tmp', async () => {
    const sandbox = await runcBackend.create({ workspacePath: '/tmp/work' });
    try {
      expect((await sandbox.exec({ argv: ['pwd'] })).stdout.toString()).toBe('/tmp/work\n');
    } finally {
      await sandbox.destroy();
    }
  });
});
