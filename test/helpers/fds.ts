/** This process's open file descriptors, for tests that check a server gives back every one it took. */
import { readdirSync } from 'node:fs';

/** How many file descriptors this process holds now. */
export const openFds = (): number => readdirSync('/proc/self/fd').length;

/**
 * The count once it is back to `start`, or what it is after `maxWaitMs`
 * (polled every 20 ms: a closed socket's descriptor goes when both ends have
 * seen the close, a little after the event the test waited on).
 */
export async function fdsBackTo(start: number, maxWaitMs = 10_000): Promise<number> {
  let now = openFds();
  for (let waited = 0; waited < maxWaitMs && now !== start; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    now = openFds();
  }
  return now;
}
