/** `rigor list`: the rigs in rigs/ and the registered workloads. */
import { loadRig } from '../../rig/load.ts';
import { expandMatrix } from '../../rig/matrix.ts';
import { listRigFiles, rigNameOf } from '../../rig/discover.ts';
import { renderTable } from '../../report/table.ts';
import { listWorkloads, isBatchedWorkload, workloadChecks } from '../../workloads/index.ts';
import type { RigorCommand } from '../command.ts';

export const listCommand: RigorCommand = {
  command: 'list',
  describe: 'List the rigs in rigs/ and the workloads they can use',
  builder: (yargs) =>
    yargs
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .example('$0 list', 'rigs with their cells, metrics and mise task'),
  handler: async (args) => {
    const rigs = listRigFiles().map((path) => {
      try {
        const { rig } = loadRig(path, { ...workloadChecks, batched: isBatchedWorkload });
        return {
          name: rig.name,
          path,
          title: rig.title,
          workload: rig.workload,
          cells: expandMatrix(rig.matrix).length,
          metrics: Object.keys(rig.metrics),
          task: `mise run bench:${rig.name}`,
          error: null as string | null,
        };
      } catch (error) {
        return { name: rigNameOf(path), path, title: '', workload: '', cells: 0, metrics: [], task: '', error: (error as Error).message };
      }
    });
    const workloads = listWorkloads().map((w) => ({ name: w.name, description: w.description }));
    if (args.json) {
      process.stdout.write(JSON.stringify({ rigs, workloads }, null, 2) + '\n');
    } else {
      const rigRows = rigs.map((r) =>
        r.error ? [r.name, 'INVALID (rigor validate ' + r.path + ')', '', '', ''] : [r.name, r.title, r.workload, String(r.cells), r.task],
      );
      process.stdout.write(
        `Rigs\n${renderTable([{ header: 'rig' }, { header: 'title' }, { header: 'workload' }, { header: 'cells', align: 'right' }, { header: 'run with' }], rigRows)}\n\n` +
          `Workloads\n${renderTable([{ header: 'workload' }, { header: 'what it times' }], workloads.map((w) => [w.name, w.description]))}\n`,
      );
    }
    return rigs.some((r) => r.error) ? 1 : 0;
  },
};
