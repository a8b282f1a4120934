import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mappedFiles } from '../../base/proc-maps.ts';
import { which } from '../../base/which.ts';
import { waitFor } from '../helpers/processes.ts';

describe('mappedFiles', () => {
  it('names the executable and libraries a process maps, and not what it does not', () => {
    const own = mappedFiles('self')!;
    expect(own.has(realpathSync(process.execPath))).toBe(true);
    expect([...own].some((file) => /\/libc\.so\.6$/.test(file))).toBe(true);
    expect(own.has(realpathSync(which('sleep')!))).toBe(false);
    expect([...own].every((file) => file.startsWith('/'))).toBe(true);
  });

  it('reads another process, and answers null for one that is gone', async () => {
    const sleep = realpathSync(which('sleep')!);
    const child = spawn(sleep, ['30'], { stdio: 'ignore' });
    try {
      expect(await waitFor(() => mappedFiles(child.pid!)?.has(sleep))).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => child.once('exit', resolve));
    expect(mappedFiles(child.pid!)).toBeNull();
  });
});
