/**
 * The end of a cell that started several things (a sandbox, an egress path,
 * an upstream, a temp dir): every step runs, in order, even when one fails,
 * so a sandbox that fails to die does not leave the rest behind; then the
 * first failure is thrown.
 */
export async function teardown(steps: ReadonlyArray<() => unknown>): Promise<void> {
  let first: unknown;
  let failed = false;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      if (!failed) first = error;
      failed = true;
    }
  }
  if (failed) throw first;
}
