/**
 * The reasons available() gives, with the engine CLIs replaced by small
 * scripts on PATH (fixtures/) that answer the probe the way a real CLI does
 * when its engine is absent, hangs or answers. They stand in for programs
 * this host lacks only to test how outcomes map to reasons; nothing is
 * measured through them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dockerEngine } from '../../../../sandbox-core/backends/docker.ts';
import { probeEngine } from '../../../../sandbox-core/backends/engines/probe.ts';
import { podmanEngine } from '../../../../sandbox-core/backends/podman.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
const originalPath = process.env.PATH;

function withPath(dir: string): void {
  process.env.PATH = `${dir}:${originalPath}`;
}

afterEach(() => {
  process.env.PATH = originalPath;
});

describe('probeEngine', () => {
  it('says the CLI is not on PATH, with where to get it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'rigor-empty-path-'));
    try {
      process.env.PATH = empty;
      expect(await probeEngine(dockerEngine)).toEqual({ ok: false, reason: 'docker not on PATH (apt-get install docker.io, or Docker Engine: https://docs.docker.com/engine/install/)' });
      expect(await probeEngine(podmanEngine)).toEqual({ ok: false, reason: 'podman not on PATH (apt-get install podman)' });
    } finally {
      rmSync(empty, { recursive: true });
    }
  });

  it('says a docker CLI without an engine is not enough, quoting the first line the CLI said', async () => {
    withPath(join(fixtures, 'no-engine'));
    expect(await probeEngine(dockerEngine)).toEqual({
      ok: false,
      reason: 'docker CLI present but no engine answers: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
    });
  });

  it('says podman info failed, quoting podman', async () => {
    withPath(join(fixtures, 'no-engine'));
    const availability = await probeEngine(podmanEngine);
    expect(availability.ok).toBe(false);
    expect(!availability.ok && availability.reason).toMatch(/^podman present but `podman info` failed: Error: cannot connect to Podman\./);
  });

  it('gives up on an engine that does not answer within the timeout', async () => {
    withPath(join(fixtures, 'hanging'));
    const availability = await probeEngine(dockerEngine, { timeoutMs: 300 });
    expect(availability).toEqual({ ok: false, reason: 'docker CLI present but no engine answers: no answer to `docker version` within 300 ms' });
  });

  it('goes on to what the image needs once the engine answers', async () => {
    withPath(join(fixtures, 'answering'));
    expect(await probeEngine(dockerEngine, { busyboxPath: '/nonexistent/busybox' })).toEqual({
      ok: false,
      reason: 'no static busybox at /nonexistent/busybox for the docker image (apt-get install busybox-static)',
    });
  });
});
