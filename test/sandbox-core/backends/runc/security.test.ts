import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gvisorBackend } from '../../../../sandbox-core/backends/gvisor.ts';
import { runcBackend } from '../../../../sandbox-core/backends/runc.ts';
import type { RuncSandbox } from '../../../../sandbox-core/backends/runc/sandbox.ts';

const availability = await runcBackend.available();
const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/**
 * runc and gvisor run the same bundle (gvisor through runc's modules, with runsc as the runtime): the
 * same escapes fail in both. sentry: the commands' kernel is gVisor's, whose /proc/<pid>/status has
 * no NoNewPrivs line (escape.test.ts asks prctl instead) and whose /proc/sys refuses writes by permission.
 */
const cases = await Promise.all(
  [
    { backend: runcBackend, sentry: false },
    { backend: gvisorBackend, sentry: true },
  ].map(async (entry) => ({ ...entry, name: entry.backend.name, availability: await entry.backend.available() })),
);

describe.each(cases)('$name sandbox escapes fail', ({ backend, sentry, name, availability }) => {
  if (!availability.ok) {
    it.skip(`(skipped: ${availability.reason})`, () => undefined);
    return;
  }
  let sandbox: RuncSandbox;
  let rootfs: string;
  beforeAll(async () => {
    sandbox = (await backend.create()) as RuncSandbox;
    rootfs = await backend.rootfs();
  });
  afterAll(async () => {
    await sandbox?.destroy();
  });

  const sh = (script: string) => sandbox.exec({ argv: ['sh', '-c', script], timeoutMs: 10_000 });

  it('cannot write the read-only rootfs, and the shared rootfs on the host stays as it was', async () => {
    const before = { passwd: sha256(join(rootfs, 'etc/passwd')), busybox: sha256(join(rootfs, 'bin/busybox')), names: readdirSync(rootfs).sort() };
    const result = await sh('echo owned > /etc/passwd; echo owned > /bin/busybox; mkdir /newdir; touch /root/x');
    // gVisor checks the owner (host root, nobody inside) before the read-only mount: EACCES for what exists
    const refused = sentry ? /Read-only file system|Permission denied/g : /Read-only file system/g;
    expect(result.stderr.toString().match(refused)).toHaveLength(4);
    await expect(sandbox.writeFile('/etc/evil', 'x')).rejects.toThrow(sentry ? /Permission denied|Read-only file system/ : /Read-only file system/);
    const remount = await sh('mount -o remount,rw /');
    expect(remount.exitCode).not.toBe(0);
    expect(remount.stderr.toString()).toMatch(/permission denied|not permitted/i);
    expect({ passwd: sha256(join(rootfs, 'etc/passwd')), busybox: sha256(join(rootfs, 'bin/busybox')), names: readdirSync(rootfs).sort() }).toEqual(before);
  });

  it('cannot reach a host file outside the workspace', async () => {
    const hostDir = mkdtempSync(join(tmpdir(), `rigor-${name}-escape-target-`));
    const marker = join(hostDir, 'marker');
    writeFileSync(marker, 'host');
    try {
      const result = await sh(`cat ${marker}; echo owned > ${marker}; ls /proc/1/root${hostDir}`);
      expect(result.stdout.toString()).toBe('');
      expect(result.stderr.toString()).toMatch(/No such file or directory/);
      expect(readFileSync(marker, 'utf8')).toBe('host');
    } finally {
      rmSync(hostDir, { recursive: true, force: true });
    }
  });

  it('cannot write the kernel settings under /proc/sys', async () => {
    const result = await sh('echo owned > /proc/sys/kernel/hostname');
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr.toString()).toMatch(sentry ? /Permission denied|Read-only file system/ : /Read-only file system/);
  });

  it('sees only its own processes', async () => {
    const result = await sh('ps -o pid,comm');
    const rows = result.stdout.toString().trim().split('\n').slice(1).map((line) => line.trim().split(/\s+/));
    expect(rows.find((row) => row[0] === '1')?.[1]).toBe('rigor-agent');
    // busybox sh execs its last command, so the shell may or may not still be there
    const names = rows.map((row) => row[1]);
    expect(names).toContain('ps');
    for (const name of names) expect(['rigor-agent', 'sh', 'ps']).toContain(name);
    const pids = (await sh('ls /proc')).stdout.toString().split('\n').filter((name) => /^\d+$/.test(name));
    expect(pids.length).toBeLessThanOrEqual(3);
    expect(pids).not.toContain(String(process.pid));
  });

  describe('network', () => {
    let server: Server;
    let port: number;
    let accepted = 0;
    beforeAll(async () => {
      server = createServer((socket) => {
        accepted += 1;
        socket.end('hello from the host\n');
      });
      await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('has nothing but its own loopback, which is up', async () => {
      const links = (await sh('ip -o link')).stdout.toString().trim().split('\n');
      expect(links).toHaveLength(1);
      expect(links[0]).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP>/);
      // its own loopback works: a listener inside answers a client inside
      const own = await sh('(echo inside | nc -l -p 7000 &) ; sleep 0.2; nc -w 2 127.0.0.1 7000');
      expect(own.stdout.toString()).toBe('inside\n');
    });

    it('cannot connect to a server on the host loopback', async () => {
      const result = await sh(`nc -w 2 127.0.0.1 ${port}`);
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr.toString()).toMatch(/Connection refused/);
      expect(accepted).toBe(0);
    });

    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal);
    it.skipIf(!external)(`cannot connect to the host's own address${external ? '' : ' (skipped: no non-loopback IPv4 on this host)'}`, async () => {
      const result = await sh(`nc -w 2 ${external!.address} ${port}`);
      expect(result.exitCode).not.toBe(0);
      // gVisor's netstack has a route for nothing but its loopback
      expect(result.stderr.toString()).toMatch(sentry ? /No route to host|Network is unreachable/ : /Network is unreachable/);
      expect(accepted).toBe(0);
    });
  });

  it('runs commands with no capability and no_new_privs; the agent holds only CAP_KILL, CAP_SETGID, CAP_SETUID and CAP_SETPCAP', async () => {
    const result = await sh('grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)" /proc/self/status /proc/1/status');
    // gVisor's status has no CapAmb or NoNewPrivs line (escape.test.ts asks prctl there)
    const lines = result.stdout.toString().trim().split('\n');
    expect(lines).toHaveLength(sentry ? 8 : 12);
    for (const line of lines.filter((entry) => entry.startsWith('/proc/self/'))) expect(line).toMatch(/(Cap\w+:\s+0000000000000000|NoNewPrivs:\s+1)$/);
    // capabilities 5..8, never inheritable: nothing of them can reach a command
    expect(lines.filter((entry) => entry.startsWith('/proc/1/'))).toEqual(
      [
        '/proc/1/status:CapInh:\t0000000000000000',
        '/proc/1/status:CapPrm:\t00000000000001e0',
        '/proc/1/status:CapEff:\t00000000000001e0',
        '/proc/1/status:CapBnd:\t00000000000001e0',
        '/proc/1/status:CapAmb:\t0000000000000000',
        '/proc/1/status:NoNewPrivs:\t1',
      ].filter((line) => !sentry || !/CapAmb|NoNewPrivs/.test(line)),
    );
    // gVisor has no SIOCSIFFLAGS at all (ENOTTY for anyone): this capability check says something on runc only
    if (sentry) return;
    const denied = await sh('ip link set lo down');
    expect(denied.stderr.toString()).toMatch(/Operation not permitted/);
  });
});

describe.skipIf(!availability.ok)(`runc capabilities granted by the spec${skipReason}`, () => {
  it('holds exactly the granted capability, and it works', async () => {
    const sandbox = await runcBackend.create({ capabilities: ['CAP_NET_ADMIN'] });
    try {
      const status = (await sandbox.exec({ argv: ['grep', '^Cap', '/proc/self/status'] })).stdout.toString();
      // CAP_NET_ADMIN is capability 12: the command (uid 1000) holds it in every set, and nothing else
      expect(status).toBe(['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'].map((set) => `${set}:\t0000000000001000\n`).join(''));
      expect((await sandbox.exec({ argv: ['id', '-u'] })).stdout.toString()).toBe('1000\n');
      const down = await sandbox.exec({ argv: ['sh', '-c', 'ip link set lo down && ip -o link show lo'] });
      expect(down.exitCode).toBe(0);
      expect(down.stdout.toString()).not.toMatch(/UP/);
    } finally {
      await sandbox.destroy();
    }
  });
});

describe.skipIf(!availability.ok)(`runc capabilities with the Node agent${skipReason}`, () => {
  it('refuses to grant capabilities the Node agent could not hand on', async () => {
    await expect(runcBackend.create({ agent: 'node', capabilities: ['CAP_NET_ADMIN'] })).rejects.toThrow(/the Node agent cannot hand capabilities to its commands/);
  });
});
