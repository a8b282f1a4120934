/** Blocks this thread for `ms` milliseconds: for synchronous paths (exit-time cleanup, a synchronous open) that must wait. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
