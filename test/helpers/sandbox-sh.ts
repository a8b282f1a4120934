/** Run a shell script in a sandbox for a test: it must succeed quietly (exit 0, nothing on stderr). */
import { expect } from 'vitest';
import type { Sandbox } from '../../sandbox-core/backends/types.ts';

/** The script's stdout, after asserting exit 0 and an empty stderr. */
export async function sh(sandbox: Sandbox, script: string): Promise<string> {
  const result = await sandbox.exec({ argv: ['sh', '-c', script] });
  expect(result.stderr.toString()).toBe('');
  expect(result.exitCode).toBe(0);
  return result.stdout.toString();
}
