/** `rigor history <rig>`: each cell and metric across commits, with its change points. Information: exit 0. */
import { InputError } from '../../../base/errors.ts';
import { problemLines } from '../../artifact/read.ts';
import { commitOrder } from '../../history/commit-order.ts';
import { historyHostWarnings } from '../../history/hosts.ts';
import { formatHistory } from '../../history/format.ts';
import { readRigArtifacts } from '../../history/read-artifacts.ts';
import { buildHistory, type RigHistory } from '../../history/series.ts';
import type { RigorCommand } from '../command.ts';

/** Only the series of the asked metric and cell; a name that matches nothing is a mistake, answered with the names there are. */
function select(history: RigHistory, metric: string | undefined, cell: string | undefined): RigHistory {
  const known = (key: 'metric' | 'cell') => [...new Set(history.series.map((s) => s[key]))];
  if (metric !== undefined && !known('metric').includes(metric)) {
    throw new InputError(`--metric: expected one of ${known('metric').join(', ') || '(no metric has samples)'}, found ${JSON.stringify(metric)}`);
  }
  if (cell !== undefined && !known('cell').includes(cell)) {
    throw new InputError(`--cell: expected one of ${known('cell').join(' | ') || '(no cell has samples)'}, found ${JSON.stringify(cell)}`);
  }
  const series = history.series.filter((s) => (metric === undefined || s.metric === metric) && (cell === undefined || s.cell === cell));
  // the warnings of the hosts these series come from, not of every host the rig ran on
  const hosts = history.hosts.filter((host) => series.some((s) => s.host === host.id));
  return { ...history, hosts, warnings: historyHostWarnings(hosts), series };
}

export const historyCommand: RigorCommand = {
  command: 'history <rig>',
  describe: "A rig's medians across commits (git order), per cell, metric, host and host fingerprint, with change points (E-divisive means + t-test, as Apache Otava)",
  builder: (yargs) =>
    yargs
      .positional('rig', { type: 'string', describe: 'rig name: its artifacts are results/<rig>/*.json', demandOption: true })
      .option('metric', { type: 'string', describe: 'only this metric' })
      .option('cell', { type: 'string', describe: 'only this cell id, e.g. "backend=bwrap,concurrency=1"' })
      .option('json', { type: 'boolean', default: false, describe: 'print the history as JSON' })
      .option('results-dir', { type: 'string', default: 'results', describe: 'where rig results live' })
      .example('$0 history startup', 'every series of the startup rig')
      .example('$0 history lifecycle --metric total_ms --cell backend=bwrap,concurrency=1', 'one series'),
  handler: async (args) => {
    const rig = String(args.rig);
    const { artifacts, problems } = readRigArtifacts(rig, String(args.resultsDir ?? args['results-dir'] ?? 'results'));
    // A file that does not read is named and left out; the others still make a history.
    for (const line of problemLines(problems, 'history')) process.stderr.write(`${line}\n`);
    if (artifacts.length === 0) throw new InputError(`${rig}: expected artifacts in the rig's results directory, found none${problems.length ? ' that read' : ''}`);
    const history = select(buildHistory(artifacts, commitOrder()), args.metric as string | undefined, args.cell as string | undefined);
    if (args.json) {
      process.stdout.write(`${JSON.stringify(history, null, 2)}\n`);
    } else {
      const maxWidth = process.stdout.isTTY ? process.stdout.columns : Infinity;
      process.stdout.write(`${formatHistory(history, { maxWidth })}\n`);
    }
    return 0;
  },
};
