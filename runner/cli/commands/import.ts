/** `rigor import hyperfine <file>`: a hyperfine --export-json file as a rigor artifact, marked as imported. */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeArtifact } from '../../artifact/write.ts';
import { InputError } from '../../../base/errors.ts';
import { artifactFromHyperfine, DEFAULT_IMPORT_RIG, parseHyperfineExport } from '../../export/from-hyperfine.ts';
import { collectHost } from '../../host/collect.ts';
import { collectGit } from '../../host/git.ts';
import { Name } from '../../rig/schema.ts';
import type { RigorCommand } from '../command.ts';

export const importCommand: RigorCommand = {
  command: 'import <format> <file>',
  describe: "Turn another tool's results into a rigor artifact (this machine's host and git block, run.imported_from set)",
  builder: (yargs) =>
    yargs
      .positional('format', { choices: ['hyperfine'] as const, describe: 'hyperfine: a file written by hyperfine --export-json', demandOption: true })
      .positional('file', { type: 'string', describe: 'the file to import', demandOption: true })
      .option('rig', { type: 'string', default: DEFAULT_IMPORT_RIG, describe: 'rig name the artifact is filed under' })
      .option('out', { type: 'string', describe: 'directory for the artifact (default results/<rig>/)' })
      .example('$0 import hyperfine bench.json', 'into results/imported-hyperfine/')
      .example('$0 import hyperfine bench.json --rig shells', 'into results/shells/'),
  handler: async (args) => {
    const file = String(args.file);
    const rig = String(args.rig);
    if (!Name.safeParse(rig).success) throw new InputError(`--rig: expected a lower-case name of letters, digits, - and _, found ${JSON.stringify(rig)}`);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      throw new InputError(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    let data: unknown;
    try {
      data = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new InputError(`${file}: not valid JSON: ${(error as Error).message}`);
    }
    const results = parseHyperfineExport(data, file);
    const artifact = artifactFromHyperfine(results, {
      file,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      rig,
      // hyperfine writes its export when the last run ends: the best time the file tells
      measuredAt: statSync(file).mtime.toISOString(),
      runId: randomUUID(),
      commandLine: ['rigor', ...process.argv.slice(2)],
      host: await collectHost({ tools: ['hyperfine'], probeKvm: false }),
      git: collectGit(),
    });
    const path = writeArtifact(artifact, String(args.out ?? join('results', rig)));
    process.stdout.write(`imported ${results.length} result${results.length === 1 ? '' : 's'} from ${file}\nartifact: ${relative(process.cwd(), path)}\n`);
    return 0;
  },
};
