/** Picking the spawner a run times commands with: the native helper when it builds and starts, else Node's spawn. */
import { ensureNativeSpawner, type BuildOptions } from './native-build.ts';
import { NativeSpawner } from './native-spawner.ts';
import { NodeSpawner } from './node-spawner.ts';
import type { Spawner } from './spawner.ts';

/** Open the preferred spawner; `note` says which one runs and why (it goes into the cell's facts). */
export async function openSpawner(
  prefer: 'native' | 'node',
  options: BuildOptions = {},
): Promise<{ spawner: Spawner; note: string }> {
  if (prefer === 'node') return { spawner: new NodeSpawner(), note: 'node: requested' };
  let helper: Awaited<ReturnType<typeof ensureNativeSpawner>>;
  try {
    helper = await ensureNativeSpawner(options);
  } catch (error) {
    return {
      spawner: new NodeSpawner(),
      note: `node: the native helper could not be built (${(error as Error).message}); Node's spawn adds more overhead per run`,
    };
  }
  const spawner = new NativeSpawner(helper.path);
  try {
    await spawner.warm();
  } catch (error) {
    await spawner.close();
    return {
      spawner: new NodeSpawner(),
      note: `node: the native helper ${helper.path} did not start (${(error as Error).message}); Node's spawn adds more overhead per run`,
    };
  }
  return {
    spawner,
    note: helper.built ? `native: helper built with ${helper.compiler} at ${helper.path}` : `native: cached helper ${helper.path}`,
  };
}
