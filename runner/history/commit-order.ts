/** The order history puts commits in: the repository's own, not the order runs happened to be made. */
import { spawnSync } from 'node:child_process';

/**
 * Commits reachable from HEAD, oldest first, every parent before its children
 * (`git rev-list --topo-order --reverse HEAD`). Empty outside a repository or
 * before its first commit: every artifact is then placed by time.
 */
export function commitOrder(cwd: string = process.cwd()): string[] {
  const result = spawnSync('git', ['rev-list', '--topo-order', '--reverse', 'HEAD'], {
    cwd,
    encoding: 'utf8',
    timeout: 30_000,
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status !== 0) return [];
  return result.stdout.split('\n').filter((line) => line.length > 0);
}
