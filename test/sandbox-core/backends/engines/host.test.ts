/**
 * What available() says on the host the tests run on, for the real CLIs: on
 * the machine this was written on the docker CLI is installed with no engine
 * behind it and podman is absent, so both must say so and never claim to run.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { which } from '../../../../base/which.ts';
import { dockerBackend } from '../../../../sandbox-core/backends/docker.ts';
import { podmanBackend } from '../../../../sandbox-core/backends/podman.ts';

/** Whether `cli args` succeeds within 5 s: the host fact available() must agree with. */
async function answers(cli: string, args: string[]): Promise<boolean> {
  if (!which(cli)) return false;
  return (await execa(cli, args, { reject: false, stdin: 'ignore', timeout: 5000 })).exitCode === 0;
}

describe('engine backends on this host', () => {
  it('docker: not on PATH, or a CLI with no engine, or available', async () => {
    const availability = await dockerBackend.available();
    if (!which('docker')) {
      expect(availability).toEqual({ ok: false, reason: expect.stringContaining('docker not on PATH') });
    } else if (!(await answers('docker', ['version', '--format', '{{.Server.Version}}']))) {
      expect(availability.ok).toBe(false);
      expect(!availability.ok && availability.reason).toMatch(/^docker CLI present but no engine answers: \S/);
    } else {
      expect(availability.ok || availability.reason).not.toMatch(/engine/);
    }
  });

  it('podman: not on PATH, or podman info failing, or available', async () => {
    const availability = await podmanBackend.available();
    if (!which('podman')) {
      expect(availability).toEqual({ ok: false, reason: 'podman not on PATH (apt-get install podman)' });
    } else if (!(await answers('podman', ['info', '--format', '{{.Version.Version}}']))) {
      expect(!availability.ok && availability.reason).toMatch(/^podman present but `podman info` failed: \S/);
    } else {
      expect(availability.ok || availability.reason).not.toMatch(/podman info/);
    }
  });

  it('asks the engine only once per process', async () => {
    expect(dockerBackend.available()).toBe(dockerBackend.available());
  });
});

const dockerWithoutEngine = which('docker') !== null && !(await answers('docker', ['version', '--format', '{{.Server.Version}}']));

describe.runIf(dockerWithoutEngine)('docker create() with a CLI and no engine', () => {
  it('fails naming the engine and leaves no sandbox, process or workspace behind', async () => {
    const { liveSandboxes } = await import('../../../../sandbox-core/cleanup.ts');
    const { readdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const before = readdirSync(tmpdir()).filter((name) => name.startsWith(`rigor-docker-${process.pid}-`));
    await expect(dockerBackend.create()).rejects.toThrow(/docker import of .* failed: .*daemon/i);
    expect(liveSandboxes().filter((sandbox) => sandbox.backend === 'docker')).toEqual([]);
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith(`rigor-docker-${process.pid}-`))).toEqual(before);
  });
});
