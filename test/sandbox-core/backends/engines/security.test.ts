/**
 * What runc's security tests attack, from inside docker and podman
 * containers (runc runtime): the read-only image, host files, /proc/sys,
 * host processes, the host's loopback and address, and capabilities —
 * none but the agent's four, and exactly those the spec grants.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerBackend } from '../../../../sandbox-core/backends/docker.ts';
import type { EngineBackend } from '../../../../sandbox-core/backends/engines/backend.ts';
import { podmanBackend } from '../../../../sandbox-core/backends/podman.ts';
import type { Sandbox } from '../../../../sandbox-core/backends/types.ts';

const external = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && address.family === 'IPv4' && !address.internal);

for (const backend of [dockerBackend, podmanBackend] as EngineBackend[]) {
  const availability = await backend.available();
  const skipReason = availability.ok ? '' : ` (skipped: ${availability.reason})`;
  describe.skipIf(!availability.ok)(`${backend.name} container escapes fail${skipReason}`, () => {
    let sandbox: Sandbox;
    beforeAll(async () => {
      sandbox = await backend.create();
    }, 120_000);
    afterAll(async () => {
      await sandbox?.destroy();
    });

    const sh = (script: string) => sandbox.exec({ argv: ['sh', '-c', script], timeoutMs: 10_000 });

    it('cannot write the read-only image, nor remount it', async () => {
      const result = await sh('echo owned > /etc/passwd; echo owned > /bin/busybox; mkdir /newdir; touch /root/x');
      expect(result.stderr.toString().match(/Read-only file system/g)).toHaveLength(4);
      await expect(sandbox.writeFile('/etc/evil', 'x')).rejects.toThrow(/Read-only file system/);
      const remount = await sh('mount -o remount,rw /');
      expect(remount.exitCode).not.toBe(0);
      expect(remount.stderr.toString()).toMatch(/permission denied|not permitted/i);
    });

    it('cannot reach a host file outside the workspace', async () => {
      const hostDir = mkdtempSync(join(tmpdir(), `rigor-${backend.name}-escape-target-`));
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
      expect(result.stderr.toString()).toMatch(/Read-only file system/);
    });

    it('sees only its own processes', async () => {
      const result = await sh('ps -o pid,comm');
      const rows = result.stdout.toString().trim().split('\n').slice(1).map((line) => line.trim().split(/\s+/));
      expect(rows.find((row) => row[0] === '1')?.[1]).toBe('rigor-agent');
      for (const name of rows.map((row) => row[1])) expect(['rigor-agent', 'sh', 'ps']).toContain(name);
      const pids = (await sh('ls /proc')).stdout.toString().split('\n').filter((name) => /^\d+$/.test(name));
      expect(pids.length).toBeLessThanOrEqual(3);
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

      it('has nothing but its own loopback, which is up and works', async () => {
        const links = (await sh('ip -o link')).stdout.toString().trim().split('\n');
        expect(links).toHaveLength(1);
        expect(links[0]).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP>/);
        const own = await sh('(echo inside | nc -l -p 7000 &) ; sleep 0.2; nc -w 2 127.0.0.1 7000');
        expect(own.stdout.toString()).toBe('inside\n');
      });

      it('cannot connect to a server on the host loopback', async () => {
        const result = await sh(`nc -w 2 127.0.0.1 ${port}`);
        expect(result.exitCode).not.toBe(0);
        expect(result.stderr.toString()).toMatch(/Connection refused/);
        expect(accepted).toBe(0);
      });

      it.skipIf(!external)(`cannot connect to the host's own address${external ? '' : ' (skipped: no non-loopback IPv4 on this host)'}`, async () => {
        const result = await sh(`nc -w 2 ${external!.address} ${port}`);
        expect(result.exitCode).not.toBe(0);
        expect(result.stderr.toString()).toMatch(/Network is unreachable/);
        expect(accepted).toBe(0);
      });
    });

    it('runs commands with no capability and no_new_privs; the agent holds only CAP_KILL, CAP_SETGID, CAP_SETUID and CAP_SETPCAP', async () => {
      const lines = (await sh('grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)" /proc/self/status /proc/1/status')).stdout.toString().trim().split('\n');
      expect(lines).toHaveLength(12);
      for (const line of lines.filter((entry) => entry.startsWith('/proc/self/'))) expect(line).toMatch(/(Cap\w+:\s+0000000000000000|NoNewPrivs:\s+1)$/);
      expect(lines.filter((entry) => entry.startsWith('/proc/1/'))).toEqual([
        '/proc/1/status:CapInh:\t0000000000000000',
        '/proc/1/status:CapPrm:\t00000000000001e0',
        '/proc/1/status:CapEff:\t00000000000001e0',
        '/proc/1/status:CapBnd:\t00000000000001e0',
        '/proc/1/status:CapAmb:\t0000000000000000',
        '/proc/1/status:NoNewPrivs:\t1',
      ]);
      expect((await sh('ip link set lo down')).stderr.toString()).toMatch(/Operation not permitted/);
    });
  });

  describe.skipIf(!availability.ok)(`${backend.name} capabilities granted by the spec${skipReason}`, () => {
    it('holds exactly the granted capability, and it works', async () => {
      const sandbox = await backend.create({ capabilities: ['CAP_NET_ADMIN'] });
      try {
        const status = (await sandbox.exec({ argv: ['grep', '^Cap', '/proc/self/status'] })).stdout.toString();
        expect(status).toBe(['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'].map((set) => `${set}:\t0000000000001000\n`).join(''));
        const down = await sandbox.exec({ argv: ['sh', '-c', 'ip link set lo down && ip -o link show lo'] });
        expect(down.exitCode).toBe(0);
        expect(down.stdout.toString()).not.toMatch(/UP/);
      } finally {
        await sandbox.destroy();
      }
    });
  });
}
