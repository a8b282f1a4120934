/** `rigor fleet run <rig>` and `rigor fleet merge <dir>`: one rig over many hosts, one results tree. */
import { InputError } from '../../../base/errors.ts';
import { mergeDirectory, mergeLines } from '../../fleet/merge-command.ts';
import type { RigorCommand } from '../command.ts';

export const fleetCommand: RigorCommand = {
  command: 'fleet <action> [target]',
  describe: 'Run a rig on every host of an Ansible inventory (fleet run <rig>), or merge artifacts made elsewhere into results/ (fleet merge <dir>)',
  builder: (yargs) =>
    yargs
      .positional('action', { type: 'string', choices: ['run', 'merge'], describe: 'run: drive fleet/run.yml with ansible-playbook; merge: collect artifacts' })
      .positional('target', { type: 'string', describe: 'run: the rig (name or path); merge: a directory of artifacts (any depth)' })
      .option('results', { type: 'string', default: 'results', describe: 'the results tree artifacts and fleet records go to (results/<rig>/, results/<rig>/fleet/)' })
      .example('$0 fleet merge downloaded-artifacts/', "a CI matrix's artifacts into results/, with a fleet record"),
  handler: async (args) => {
    const action = String(args.action);
    const results = String(args.results);
    const commandLine = ['rigor', ...process.argv.slice(2)];
    if (action === 'merge') {
      if (args.target === undefined) throw new InputError('fleet merge: expected a directory of artifacts, found none (rigor fleet merge <dir>)');
      const report = mergeDirectory(String(args.target), results, commandLine);
      if (report.placed.length === 0) throw new InputError(`${String(args.target)}: expected rigor artifacts (.json) at any depth, found none`);
      process.stdout.write(`${mergeLines(report, results).join('\n')}\n`);
      return 0;
    }
    throw new InputError(`fleet ${action}: not implemented`);
  },
};
