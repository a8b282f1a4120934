/**
 * The moment qemu itself runs, not the `setpriv` that execs it: qemu writes
 * its `-pidfile` once its libraries are loaded and its arguments parsed,
 * before it builds the machine (qemu_maybe_daemonize in qemu_init). Seen
 * through inotify (fs.watch) on the sandbox's fresh run dir, watched before
 * the launch, so the creation cannot be missed and nothing polls.
 */
import { watch } from 'node:fs';

export interface PidFileWatch {
  /** Stop watching (idempotent); the file may or may not have appeared. */
  close(): void;
}

/** Calls `onAppear` once, when `name` is created in `dir`; `dir` must exist and not hold it yet. */
export function watchForFile(dir: string, name: string, onAppear: () => void): PidFileWatch {
  const watcher = watch(dir, { persistent: false });
  let seen = false;
  watcher.on('change', (_event, file) => {
    if (seen || file?.toString() !== name) return;
    seen = true;
    watcher.close();
    onAppear();
  });
  watcher.on('error', () => watcher.close()); // the dir went with a failed start: nothing left to see
  return { close: () => watcher.close() };
}
