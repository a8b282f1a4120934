/**
 * Ctrl-C and SIGTERM during a run: the first one aborts the run's signal, so
 * workloads kill their children and return what they measured and the runner
 * writes an `interrupted` artifact; a second one exits at once.
 */
export interface Interrupt {
  signal: AbortSignal;
  /** The signal that interrupted the run, if any. */
  received(): NodeJS.Signals | null;
  dispose(): void;
}

export function listenForInterrupt(onFirst?: (signal: NodeJS.Signals) => void): Interrupt {
  const controller = new AbortController();
  let received: NodeJS.Signals | null = null;
  const handler = (signal: NodeJS.Signals) => {
    if (received) {
      process.stderr.write(`\nrigor: second ${signal}, exiting without writing an artifact\n`);
      process.exit(130);
    }
    received = signal;
    onFirst?.(signal);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    received: () => received,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Conventional exit status for a process ended by a signal: 128 + its number. */
export function exitCodeFor(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}
