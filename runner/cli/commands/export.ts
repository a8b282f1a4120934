/** `rigor export <artifact> --format bmf|hyperfine`: an artifact in the JSON of tools people already use. */
import { statSync } from 'node:fs';
import { InputError } from '../../../base/errors.ts';
import { readArtifact } from '../../artifact/read.ts';
import { replaceFile } from '../../artifact/write.ts';
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
      .option('out', { type: 'string', describe: 'write to this file instead of stdout (atomically; never over the artifact, nor over another file without --force)' })
      .option('force', { type: 'boolean', default: false, describe: 'with --out: replace a file that exists' })
      .example('$0 export startup --format bmf | bencher run --adapter json', 'the newest startup run into Bencher')
      .example('$0 export results/startup/X.json --format hyperfine --out startup.json', "for hyperfine's plot scripts"),
  handler: async (args) => {
    const path = resolveArtifactArgument(String(args.artifact));
    if (args.out !== undefined) assertExportTarget(String(args.out), path, Boolean(args.force));
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
    if (args.out !== undefined) replaceFile(String(args.out), text);
    else process.stdout.write(text);
    return 0;
  },
};

/** --out must be a file path that is not the artifact read, and not an existing file unless --force. */
function assertExportTarget(out: string, artifactPath: string, force: boolean): void {
  let target;
  try {
    target = statSync(out);
  } catch {
    return; // a new file: its folder's problems are reported by the write
  }
  const input = statSync(artifactPath);
  if (target.isDirectory()) throw new InputError(`--out: expected a file to write, found a folder at ${out}; name a file in it`);
  if (target.dev === input.dev && target.ino === input.ino) {
    throw new InputError(`--out: ${out} is the artifact being exported (${artifactPath}); artifacts are never overwritten, name another file`);
  }
  if (!force) throw new InputError(`--out: ${out} exists; expected a new file, or --force to replace it`);
}
