/**
 * Which runs are not a whole measurement of their rig, and so are never taken
 * for "the newest run" of a rig name (compare, gate, export) or the site's
 * pair unless asked: interrupted and failed runs, trial runs (`rigor run
 * --trial`), and runs whose `--iterations` (or `--set sampling.iterations`)
 * took fewer samples than the rig asks for. A run that pinned matrix axes
 * with `--set` is a whole measurement of the cells it ran, and is taken. Pure.
 */

/** The parts of an artifact the decision reads; anything else (an older or foreign file) counts as complete. */
interface RunView {
  run?: { status?: unknown; trial?: unknown; overrides?: Record<string, unknown> };
  rig?: { definition?: { sampling?: { iterations?: unknown } } };
}

/** Why a run is not a whole measurement, or null when it is. */
export function whyIncomplete(artifact: unknown): string | null {
  const { run, rig } = (artifact ?? {}) as RunView;
  if (!run) return null;
  if (run.status === 'interrupted') return 'the run was interrupted';
  if (run.status === 'failed') return 'the run failed';
  if (run.trial === true) return 'a trial run (rigor run --trial)';
  const planned = rig?.definition?.sampling?.iterations;
  const overrides = run.overrides ?? {};
  for (const [key, flag] of [['iterations', '--iterations'], ['sampling.iterations', '--set sampling.iterations=']] as const) {
    const asked = overrides[key];
    if (typeof asked === 'number' && typeof planned === 'number' && asked < planned) {
      return `${flag}${flag.endsWith('=') ? '' : ' '}${asked}: fewer samples than the rig's ${planned}`;
    }
  }
  return null;
}
