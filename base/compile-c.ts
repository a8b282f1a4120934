/**
 * Running the C compiler on rigor's own small C programs, with an error that
 * says what to install when the toolchain is the problem rather than the code.
 */
import { execa } from 'execa';
import { lastLines } from './tail.ts';

export interface CompileOptions {
  /** C compiler to run; default `cc` from PATH. */
  compiler?: string;
  /** Flags before `-o`, e.g. ['-O2', '-static']. */
  flags: readonly string[];
}

/** Compiles `sources` into the executable `output`; throws "<compiler> failed: <why>". */
export async function compileC(sources: readonly string[], output: string, options: CompileOptions): Promise<void> {
  const compiler = options.compiler ?? 'cc';
  const result = await execa(compiler, [...options.flags, '-o', output, ...sources], { reject: false, stdin: 'ignore' });
  if (!result.failed) return;
  if (result.exitCode === undefined) {
    throw new Error(`${compiler} failed: no C compiler (install gcc and libc6-dev): ${result.shortMessage}`);
  }
  const stderr = String(result.stderr);
  // A static link needs libc.a, which Debian ships apart from the compiler.
  const hint = /cannot find -lc\b/.test(stderr) ? ' (no static C library libc.a: install libc6-dev)' : '';
  throw new Error(`${compiler} failed: ${lastLines(stderr, 5)}${hint}`);
}
