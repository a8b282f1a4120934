/** `rigor export <artifact> --format bmf|hyperfine`: an artifact in the JSON of tools people already use. */
import { writeFileSync } from 'node:fs';
import { readArtifact } from '../../artifact/read.ts';
import { resolveArtifactArgument } from '../../compare/artifact-argument.ts';
import { toBmf } from '../../export/to-bmf.ts';
import { toHyperfine } from '../../export/to-hyperfine.ts';
import type { RigorCommand } from '../command.ts';

const EXPORT_FORMATS = ['bmf', 'hyperfine'] as const;

export const exportCommand: RigorCommand = {
  command: 'export <artifact>',
  describe: "Write an artifact as Bencher Metric Format (bmf) or hyperfine's --export-json shape (hyperfine)",
  builder: (yargs) =>
    yargs
      .positional('artifact', { type: 'string', describe: 'an artifact file, or a rig name for its newest run in results/<rig>/', demandOption: true })
      .option('format', { choices: EXPORT_FORMATS, demandOption: true, describe: 'bmf: { "<rig>/<cell>": { "<metric>": { value, lower_value, upper_value } } }; hyperfine: { results: [...] }, times in seconds' })
      .option('out', { type: 'string', describe: 'write to this file instead of stdout' })
      .example('$0 export startup --format bmf | bencher run --adapter json', 'the newest startup run into Bencher')
      .example('$0 export results/startup/X.json --format hyperfine --out startup.json', "for hyperfine's plot scripts"),
  handler: async (args) => {
    const path = resolveArtifactArgument(String(args.artifact));
    const artifact = readArtifact(path);
    let output: unknown;
    if (args.format === 'bmf') {
      output = toBmf(artifact);
    } else {
      const converted = toHyperfine(artifact);
      for (const note of converted.skipped) process.stderr.write(`rigor export: ${path}: skipped ${note}\n`);
      for (const note of converted.notes) process.stderr.write(`rigor export: ${path}: ${note}\n`);
      output = converted.export;
    }
    const text = `${JSON.stringify(output, null, 2)}\n`;
    if (args.out) writeFileSync(String(args.out), text);
    else process.stdout.write(text);
    return 0;
  },
};
