/** A CLI verb's handler called in-process with stdout and stderr captured. */
import { vi } from 'vitest';
import type { RigorCommand } from '../../runner/cli/command.ts';

/** The exit code the handler returned; a thrown InputError (exit 2 in the CLI) propagates. */
export async function callCommand(
  command: RigorCommand,
  args: Record<string, unknown>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = (await command.handler(args)) ?? 0;
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
