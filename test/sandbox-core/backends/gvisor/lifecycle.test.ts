import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gvisorBackend, HOST_PIDS_HEADROOM, HOST_PIDS_PER_TASK } from '../../../../sandbox-core/backends/gvisor.ts';
import type { GvisorSandbox } from '../../../../sandbox-core/backends/gvisor/sandbox.ts';
import { runcList } from '../../../../sandbox-core/backends/runc/runc-cli.ts';
import { readProcTable } from '../../../../base/proc-table.ts';

const availability = await gvisorBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;
const RUNSC_RUNTIME = { backend: 'gvisor', command: 'runsc', flags: [] };

function status(pid: number): string {
  return readFileSync(`/proc/${pid}/status`, 'utf8');
}

/** argv of a host process joined by spaces; '' once it is gone. */
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

describe.skipIf(!availability.ok)(`gvisor sandbox lifecycle${skipReason}`, () => {
  let sandbox: GvisorSandbox;
  beforeAll(async () => {
    sandbox = (await gvisorBackend.create({ env: { GREETING: 'from-spec' } })) as GvisorSandbox;
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

  it('runs a command through the agent, with the spec env under the request env, and stdin', async () => {
    const result = await sandbox.exec({ argv: ['echo', 'hello'] });
    expect(result.stdout.toString()).toBe('hello\n');
    expect(result.exitCode).toBe(0);
    const env = await sandbox.exec({ argv: ['sh', '-c', 'echo $GREETING $OTHER; cat'], env: { OTHER: 'req' }, stdin: 'in' });
    expect(env.stdout.toString()).toBe('from-spec req\nin');
  });

  it("runs the agent as pid 1 under gVisor's kernel, listed in the private state root", async () => {
    expect((await sandbox.exec({ argv: ['cat', '/proc/1/comm'] })).stdout.toString()).toBe('rigor-agent\n');
    // gVisor's uname says Linux 4.4.0, whatever the host runs; dmesg is the Sentry's own boot story
    expect((await sandbox.exec({ argv: ['uname', '-r'] })).stdout.toString()).not.toBe(execFileSync('uname', ['-r']).toString());
    expect(await runcList(sandbox.paths.state, RUNSC_RUNTIME)).toEqual([sandbox.id]);
  });

  it("takes the config's hostname and RLIMIT_NOFILE; its /proc has none of the files runc masks", async () => {
    const result = await sandbox.exec({ argv: ['sh', '-c', 'hostname; ulimit -n; ulimit -Hn; ls /proc/kcore /proc/keys /proc/timer_list 2>&1 | grep -c "No such file"'] });
    expect(result.stdout.toString()).toBe(`${sandbox.id}\n1024\n1024\n3\n`);
  });

  it('writes and reads files in /workspace, a tmpfs of the command user', async () => {
    await sandbox.writeFile('/workspace/note.txt', 'written by the host');
    expect((await sandbox.readFile('/workspace/note.txt')).toString()).toBe('written by the host');
    const made = await sandbox.exec({ argv: ['sh', '-c', 'echo made inside > /workspace/inside.txt; pwd; stat -c "%u:%g %n" /workspace /workspace/note.txt; grep " /workspace " /proc/mounts'] });
    const [pwd, ownerDir, ownerFile, mount] = made.stdout.toString().trim().split('\n');
    expect(pwd).toBe('/workspace');
    expect(ownerDir).toBe('1000:1000 /workspace');
    expect(ownerFile).toBe('1000:1000 /workspace/note.txt');
    expect(mount).toMatch(/ \/workspace tmpfs .*size=/);
    expect((await sandbox.readFile('/workspace/inside.txt')).toString()).toBe('made inside\n');
    expect(readdirSync(sandbox.paths.dir).sort()).toEqual(['bundle', 'state']);
  });

  it('says in its facts which runsc, platform and host uids ran it, as /proc shows them', async () => {
    const facts = sandbox.facts.gvisor as Record<string, unknown>;
    const version = /runsc version (\S+)/.exec(execFileSync('runsc', ['--version']).toString())![1];
    expect(facts).toMatchObject({ runsc_version: version, platform: 'ptrace', network: 'none', host_uds: 'none', oci_seccomp: true });
    const runsc = readProcTable().find((entry) => cmdline(entry.pid).includes(`run --bundle ${sandbox.paths.bundle}`) && entry.pid !== process.pid);
    expect(runsc).toBeDefined();
    const children = readProcTable().filter((entry) => entry.ppid === runsc!.pid);
    const uidOf = (name: string) => {
      const child = children.find((entry) => cmdline(entry.pid).startsWith(`${name} `));
      return Number(/^Uid:\s+(\d+)/m.exec(status(child!.pid))![1]);
    };
    expect(facts.sentry_host_uid).toBe(uidOf('runsc-sandbox'));
    expect(facts.gofer_host_uid).toBe(uidOf('runsc-gofer'));
    expect(facts.runtime_host_uid).toBe(0);
    expect(sandbox.isolation).toMatchObject({ seccomp: 'rigor-default-v1', commandUid: 1000, commandHostUid: facts.sentry_host_uid });
    // the gofer runs as the sandbox's own agent uid, through the config's uid map
    expect(facts.gofer_host_uid).toBe(sandbox.hostIds!.agent);
  });

  it('bounds host pids in the cgroup from the spec: pidsLimit tasks at HOST_PIDS_PER_TASK each, plus headroom', () => {
    const pids = sandbox.cgroups.find((entry) => entry.controllers.includes('pids'))!.dir;
    expect(Number(readFileSync(join(pids, 'pids.max'), 'utf8'))).toBe(1024 * HOST_PIDS_PER_TASK + HOST_PIDS_HEADROOM);
    // the Sentry, the gofer and the stubs are in it, runsc run is not
    expect(Number(readFileSync(join(pids, 'pids.current'), 'utf8'))).toBeGreaterThan(3);
  });

  it('holds an exec while paused (runsc pause) and answers it after resume', async () => {
    await sandbox.pause();
    expect(execFileSync('runsc', ['--root', sandbox.paths.state, 'state', sandbox.id]).toString()).toMatch(/"status": "paused"/);
    let answered = false;
    const pending = sandbox.exec({ argv: ['echo', 'after'] }).then((result) => {
      answered = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answered).toBe(false);
    await sandbox.resume();
    expect((await pending).stdout.toString()).toBe('after\n');
    expect(execFileSync('runsc', ['--root', sandbox.paths.state, 'state', sandbox.id]).toString()).toMatch(/"status": "running"/);
  });

  it('reports the PSS of runsc run, the Sentry, its stubs and the gofer', async () => {
    const stats = await sandbox.stats();
    expect(stats.memory.kind).toBe('pss');
    expect(stats.memory.method).toMatch(/over runsc run and the container.s pids cgroup \(runsc-sandbox, its stub processes and runsc-gofer\)/);
    // runsc run, runsc-sandbox, runsc-gofer and at least one stub
    expect(stats.processes).toBeGreaterThanOrEqual(4);
    expect(stats.memory.bytes).toBeGreaterThan(1024 * 1024);
    expect(stats.limits).toEqual({ oomKills: 0, forksRefused: 0 });
  });

  it('leaves nothing after destroy, also when destroyed paused, and a second destroy is a no-op', async () => {
    const other = (await gvisorBackend.create()) as GvisorSandbox;
    await other.pause();
    await other.destroy();
    await other.destroy();
    expect(existsSync(other.paths.dir)).toBe(false);
    for (const { dir } of other.cgroups) expect(existsSync(dir), dir).toBe(false);
    expect(readProcTable().filter((entry) => cmdline(entry.pid).includes(other.id))).toEqual([]);
    await expect(other.exec({ argv: ['true'] })).rejects.toThrow(/destroyed/);
  });
});

describe.skipIf(!availability.ok)(`gvisor create aborted and refused specs${skipReason}`, () => {
  it('rejects at once with an aborted signal, and mid-start leaves nothing', async () => {
    await expect(gvisorBackend.create({}, { signal: AbortSignal.abort(new Error('not wanted')) })).rejects.toThrow(/not wanted/);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('changed my mind')), 20);
    await expect(gvisorBackend.create({}, { signal: controller.signal })).rejects.toThrow(/changed my mind/);
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith(`rigor-gvisor-${process.pid}-`))).toEqual([]);
  });

  it('refuses the Node agent, an egress socket it cannot reach and a memory limit the Sentry cannot start in, naming the field', async () => {
    await expect(gvisorBackend.create({ agent: 'node' })).rejects.toThrow(/spec.agent: gvisor runs the native agent only .*found "node"/);
    await expect(gvisorBackend.create({ egress: { proxySocket: 'relative.sock' } })).rejects.toThrow(/sandbox spec egress.proxySocket: expected an absolute path/);
    await expect(gvisorBackend.create({ egress: { proxySocket: '/nonexistent/proxy.sock' } })).rejects.toThrow('sandbox spec egress.proxySocket: expected a listening unix socket, found nothing at /nonexistent/proxy.sock');
    await expect(gvisorBackend.create({ memoryMiB: 12 })).rejects.toThrow(/spec.memoryMiB: gvisor needs at least 16 MiB .*found 12/);
  });
});
