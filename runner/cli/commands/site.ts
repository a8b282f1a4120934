/** `rigor site`: the static results site from rigs/ and results/, written to site/dist/. */
import type { RigorCommand } from '../command.ts';
import { buildSite } from '../../site/build.ts';

export const siteCommand: RigorCommand = {
  command: 'site',
  describe: 'Build the static results site (every number linked to its artifact and JSON pointer) into site/dist/',
  builder: (yargs) =>
    yargs
      .option('out', { type: 'string', default: 'site/dist', describe: 'output folder; replaced as a whole (only if rigor site wrote it)' })
      .option('results', { type: 'string', default: 'results', describe: 'folder of artifacts, results/<rig>/<file>.json' })
      .option('rigs', { type: 'string', default: 'rigs', describe: 'folder of rig files' })
      .example('$0 site', 'build site/dist/ from results/ and rigs/')
      .example('$0 site --results /tmp/results --out /tmp/site', 'another set of artifacts, another folder'),
  handler: async (args) => {
    const report = await buildSite({ rigsDir: String(args.rigs), resultsDir: String(args.results), outDir: String(args.out), repoDir: process.cwd() });
    for (const problem of report.problems) {
      process.stderr.write(`rigor site: WARNING: ${problem.path} left out: ${problem.message} (check it with rigor validate)\n`);
    }
    process.stdout.write(
      `${report.outDir}/: ${report.pages} pages, ${report.files} files from ${report.artifacts} artifacts of ${report.rigs} rigs ` +
        `in ${report.seconds.toFixed(1)} s; open ${report.outDir}/index.html\n`,
    );
    return 0;
  },
};
