import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractVersion, toolVersion } from '../../../runner/host/tools.ts';

describe('toolVersion', () => {
  it('node reports the running version', () => {
    expect(toolVersion('node')).toBe(process.versions.node);
  });

  it('sh is versioned by its Debian package when dpkg is there', () => {
    const dpkg = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'dash'], { encoding: 'utf8' });
    expect(toolVersion('sh')).toBe(dpkg.status === 0 ? dpkg.stdout.trim() : null);
  });

  it('a missing binary is null', () => {
    expect(toolVersion('rigor-no-such-binary')).toBeNull();
  });

  it('a binary that prints no version is "unknown", asked once', () => {
    const bin = mkdtempSync(path.join(os.tmpdir(), 'rigor-tools-'));
    const counter = path.join(bin, 'calls');
    writeFileSync(path.join(bin, 'rigor-quiet'), `#!/bin/sh\necho called >> ${counter}\necho hello\n`, { mode: 0o755 });
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
    try {
      expect(toolVersion('rigor-quiet')).toBe('unknown');
      expect(toolVersion('rigor-quiet')).toBe('unknown');
      // --version, then -V; the second lookup came from the cache
      expect(readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(2);
    } finally {
      process.env.PATH = savedPath;
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe('extractVersion', () => {
  it.each([
    ['hyperfine 1.15.0', '1.15.0'],
    ['runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev', '1.1.5+ds1'],
    ['QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)', '7.2.22'],
    ['v20.20.2', '20.20.2'],
    ['BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary.', '1.35.0'],
    ['iperf 3.12 (cJSON 1.7.15)', '3.12'],
    ['Mitmproxy: 9.0.1\nPython: 3.11.2', '9.0.1'],
    ['Docker version 28.2.2, build e6534b4', '28.2.2'],
    ['usage: tool [options]', null],
  ])('%j → %j', (output, version) => {
    expect(extractVersion(output)).toBe(version);
  });
});
