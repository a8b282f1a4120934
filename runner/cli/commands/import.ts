/**
 * `rigor import hyperfine <file>`: a hyperfine --export-json file as a rigor
 * artifact, marked as imported; with --rig, mapped onto that rig's cells.
 */
import { createHash, randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { MAX_ARTIFACT_READ_BYTES } from '../../artifact/size.ts';
import { assertWritableDestination, writeArtifact } from '../../artifact/write.ts';
import { readBounded } from '../../../base/bounded-read.ts';
import { InputError } from '../../../base/errors.ts';
import { printable, quoted } from '../../../base/printable.ts';
import { artifactFromHyperfine, DEFAULT_IMPORT_RIG, parseHyperfineExport, type ImportTarget } from '../../export/from-hyperfine.ts';
import type { HyperfineInput } from '../../export/hyperfine-format.ts';
import { commandCells, mapOntoCells, wallMetric } from '../../export/onto-rig.ts';
import { collectHost } from '../../host/collect.ts';
import { collectGit } from '../../host/git.ts';
import { resolveRigPath } from '../../rig/discover.ts';
import { loadRig } from '../../rig/load.ts';
import { applyOverrides } from '../../rig/overrides.ts';
import { Name } from '../../rig/schema.ts';
import { isBatchedWorkload, workloadChecks } from '../../workloads/index.ts';
import type { RigorCommand } from '../command.ts';

/** The rig given with --rig, loaded, each result with the cell that runs its command; and the command cells no result is for. */
function importTarget(results: readonly HyperfineInput[], file: string, rigArgument: string, sets: string[]): { target: ImportTarget; without: string[] } {
  const path = resolveRigPath(rigArgument);
  const loaded = loadRig(path, { ...workloadChecks, batched: isBatchedWorkload });
  const { rig, applied } = applyOverrides(loaded.rig, sets);
  const [wall] = wallMetric(loaded.rig, path);
  const cells = commandCells(rig);
  const mapped = mapOntoCells(results, cells, file, path);
  const target = { rig: loaded.rig, path: relative(process.cwd(), resolve(path)), sha256: loaded.sha256, overrides: applied, wall, mapped };
  return { target, without: cells.filter((cell) => !mapped.some((m) => m.cell === cell)).map((cell) => cell.id) };
}

/** "0.91 ms" */
const ms = (seconds: number | null) => (seconds === null ? 'none' : seconds === 0 ? '0 ms' : `${(seconds * 1000).toPrecision(3)} ms`);

export const importCommand: RigorCommand = {
  command: 'import <format> <file>',
  describe: "Turn another tool's results into a rigor artifact (this machine's host and git block, run.imported_from set)",
  builder: (yargs) =>
    yargs
      .positional('format', { choices: ['hyperfine'] as const, describe: 'hyperfine: a file written by hyperfine --export-json', demandOption: true })
      .positional('file', { type: 'string', describe: 'the file to import', demandOption: true })
      .option('rig', {
        type: 'string',
        describe: "a rig (name or file) to map the results onto: each result becomes the rig's cell that runs its command, filed under results/<rig>/",
      })
      .option('set', { type: 'array', string: true, default: [], describe: 'key=value, as for rigor run: narrows the cells of --rig (two cells running one command)' })
      .option('name', { type: 'string', describe: `without --rig: the rig name an import of its own is filed under (default ${DEFAULT_IMPORT_RIG})` })
      .option('out', { type: 'string', describe: 'directory for the artifact (default results/<rig>/)' })
      .example('$0 import hyperfine bench.json --rig gzip', "onto rigs/gzip.rig.yaml's cells, into results/gzip/")
      .example('$0 import hyperfine bench.json', 'a rig of its own, into results/imported-hyperfine/')
      .example('$0 import hyperfine bench.json --name shells', 'a rig of its own named shells, into results/shells/'),
  handler: async (args) => {
    const file = String(args.file);
    const sets = (args.set as string[]) ?? [];
    if (args.rig !== undefined && args.name !== undefined) {
      throw new InputError('--rig and --name: expected one of them (--rig maps onto a rig and files under its name), found both');
    }
    if (args.rig === undefined && sets.length > 0) throw new InputError('--set: narrows the cells of --rig, found no --rig');
    const name = String(args.name ?? DEFAULT_IMPORT_RIG);
    if (!Name.safeParse(name).success) throw new InputError(`--name: expected a lower-case name of letters, digits, - and _, found ${JSON.stringify(name)}`);
    const read = readBounded(file, MAX_ARTIFACT_READ_BYTES, 'hyperfine export');
    if (!read.ok) throw new InputError(`${file}: cannot read: expected ${read.expected}, found ${read.found}`);
    const bytes = read.bytes;
    let data: unknown;
    try {
      data = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new InputError(`${file}: not valid JSON: ${(error as Error).message}`);
    }
    const results = parseHyperfineExport(data, file);
    const onto = args.rig === undefined ? undefined : importTarget(results, file, String(args.rig), sets);
    const target = onto?.target;
    const outDir = String(args.out ?? join('results', target ? target.rig.name : name));
    // Before the host is probed: a wrong --out costs nothing.
    assertWritableDestination(outDir);
    const artifact = artifactFromHyperfine(
      results,
      {
        file,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        rig: name,
        // hyperfine writes its export when the last run ends: the best time the file tells
        measuredAt: statSync(file).mtime.toISOString(),
        runId: randomUUID(),
        commandLine: ['rigor', ...process.argv.slice(2)],
        host: await collectHost({ tools: ['hyperfine'], probeKvm: false }),
        git: collectGit(),
      },
      target,
    );
    // The hyperfine file stays where it was: a failed write loses nothing, so no recovery file.
    const path = writeArtifact(artifact, outDir);
    const lines = [`imported ${results.length} result${results.length === 1 ? '' : 's'} from ${file}${target ? ` onto ${target.path}` : ''}`];
    artifact.cells.forEach((cell, i) => {
      const result = target ? target.mapped[i]!.result : results[i]!;
      const where = target ? `${printable(cell.id)} <- ${quoted(result.command)}` : cell.id;
      lines.push(`  ${where}: ${result.times.length} runs; user ${ms(result.user)}, system ${ms(result.system)} (hyperfine's means)`);
    });
    if (onto?.without.length) lines.push(`  no result for: ${onto.without.map(printable).join('; ')}`);
    lines.push(`artifact: ${relative(process.cwd(), path)}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
