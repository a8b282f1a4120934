/**
 * A setup file of every test project: after each test file, stop the private dockerd the file's modules
 * started, if any. vitest isolates each file's modules, so a worker running several files would keep one
 * daemon per file, and it ends its workers with SIGTERM and SIGKILL 500 ms later: too soon for a daemon's
 * graceful stop, which left the slot (run dir, lock, cgroups) for the next run to reclaim.
 */
import { afterAll } from 'vitest';
import { stopPrivateDockerd } from '../../sandbox-core/backends/engines/private-dockerd.ts';

afterAll(async () => {
  await stopPrivateDockerd();
}, 60_000);
