/**
 * Which engine available() picks on the host the tests run on, for the real
 * CLIs: the user's Docker engine when one answers (DOCKER_HOST, or the
 * default socket), else a private dockerd when rigor is root and dockerd is
 * on PATH, else a reason; podman when `podman info` works and a container
 * of the image starts.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { which } from '../../../../base/which.ts';
import { dockerBackend } from '../../../../sandbox-core/backends/docker.ts';
import { PRIVATE_DOCKERD_RUN_ROOT, reclaimDeadDockerdSlots } from '../../../../sandbox-core/backends/engines/private-dockerd.ts';
import { podmanBackend } from '../../../../sandbox-core/backends/podman.ts';

/** Whether `cli args` succeeds within 5 s: the host fact available() must agree with. */
async function answers(cli: string, args: string[]): Promise<boolean> {
  if (!which(cli)) return false;
  return (await execa(cli, args, { reject: false, stdin: 'ignore', timeout: 5000 })).exitCode === 0;
}

const userEngine = process.env.DOCKER_HOST !== undefined || (existsSync('/var/run/docker.sock') && (await answers('docker', ['version', '--format', '{{.Server.Version}}'])));
const privateEngine = !userEngine && process.getuid?.() === 0 && which('dockerd') !== null;

describe('engine backends on this host', () => {
  it('docker: not on PATH, the user engine, a private dockerd as root, or the reason none answers', async () => {
    const availability = await dockerBackend.available();
    if (!which('docker')) {
      expect(availability).toEqual({ ok: false, reason: expect.stringContaining('docker not on PATH') });
      return;
    }
    const connection = await dockerBackend.connection();
    if (userEngine) {
      expect(connection).toMatchObject({ managed: 'user', env: {} });
    } else if (privateEngine) {
      expect(availability).toEqual({ ok: true });
      expect(connection.managed).toBe('private');
      // a unix socket path holds at most 108 bytes
      expect(connection.env.DOCKER_HOST).toMatch(new RegExp(`^unix://${PRIVATE_DOCKERD_RUN_ROOT}/\\d+/sock$`));
      expect(connection.env.DOCKER_HOST!.length - 'unix://'.length).toBeLessThan(108);
      // the CLI alone, without the connection's env, still finds no engine: rigor changed no global setting
      expect(await answers('docker', ['version', '--format', '{{.Server.Version}}'])).toBe(false);
      expect(process.env.DOCKER_HOST).toBeUndefined();
    } else {
      expect(!availability.ok && availability.reason).toMatch(/^docker CLI present but no engine answers .*(only as root|dockerd is not on PATH)/);
    }
  });

  it.runIf(!userEngine && process.getuid?.() === 0 && which('docker') !== null)('docker as an unprivileged user with no engine: unavailable, saying a private dockerd needs root', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/available.ts', import.meta.url));
    const asNobody = await execa('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, '--import', 'tsx', fixture, 'docker'], {
      env: { ...process.env, HOME: '/nonexistent' },
      reject: false,
    });
    expect(JSON.parse(asNobody.stdout).availability).toEqual({
      ok: false,
      reason: 'docker CLI present but no engine answers (/var/run/docker.sock, no DOCKER_HOST); rigor starts a private dockerd only as root',
    });
  });

  it.runIf(privateEngine)("docker with DOCKER_HOST naming an engine: that engine, the user's, used as it is", async () => {
    // another rigor's private dockerd stands in for a user's engine
    const holder = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/private-dockerd.ts', import.meta.url)), 'hold'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        holder.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        holder.once('exit', (code) => reject(new Error(`the holder exited with ${code}: ${out}`)));
      });
      const host = `unix://${(JSON.parse(line) as { dir: string }).dir}/sock`;
      const fixture = fileURLToPath(new URL('./fixtures/available.ts', import.meta.url));
      const user = await execa(process.execPath, ['--import', 'tsx', fixture, 'docker'], { env: { ...process.env, DOCKER_HOST: host } });
      expect(JSON.parse(user.stdout)).toEqual({ availability: { ok: true }, managed: 'user', env: {} });
    } finally {
      // Killed as a crash would kill it, then reclaimed as the next rigor's private dockerd would: its slot
      // (run dir, lock, cgroups) was left behind otherwise, until some later run took slot 0 over.
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill('SIGKILL');
      await exited;
      reclaimDeadDockerdSlots();
    }
  }, 180_000);

  it('podman: not on PATH, podman info failing, or available', async () => {
    const availability = await podmanBackend.available();
    if (!which('podman')) {
      expect(availability).toEqual({ ok: false, reason: 'podman not on PATH (apt-get install podman)' });
    } else if (!(await answers('podman', ['--cgroup-manager', 'cgroupfs', '--events-backend', 'file', 'info', '--format', '{{.Version.Version}}']))) {
      expect(!availability.ok && availability.reason).toMatch(/^podman present but `podman info` failed: \S/);
    } else if (!availability.ok) {
      // info answering is not enough: then no container of the image started, and the reason quotes why
      expect(availability.reason).toMatch(/^podman answers but no container starts \(runtime runc\): \S/);
    }
  });

  it('asks the engine only once per process, and a runtime variant is one backend sharing the connection', async () => {
    expect(dockerBackend.available()).toBe(dockerBackend.available());
    expect(dockerBackend.variant({ runtime: 'runsc' })).toBe(dockerBackend.variant({ runtime: 'runsc' }));
    expect(dockerBackend.variant({ runtime: 'runc' })).toBe(dockerBackend);
    expect(await (dockerBackend.variant({ runtime: 'runsc' }) as typeof dockerBackend).connection()).toBe(await dockerBackend.connection());
  });

  it('names a runtime it does not know', () => {
    expect(podmanBackend.variantProblems({ runtime: 'kata' })).toEqual(['runtime: expected one of runc, runsc, found "kata"']);
    expect(podmanBackend.variantProblems({ runtime: 'runsc' })).toEqual([]);
  });
});
