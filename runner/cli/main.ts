/** The rigor command line: one module per verb under cli/commands/. */
import yargs, { type Argv } from 'yargs';
import { InputError } from '../../base/errors.ts';
import { printableLines } from '../../base/printable.ts';
import { loadCommands } from './commands/index.ts';

/** Exit codes: 0 pass, 1 regression or failed run, 2 usage or input error. */
export const EXIT = { ok: 0, regression: 1, usage: 2 } as const;

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const parser: Argv = yargs(argv)
    .scriptName('rigor')
    .usage('$0 <verb> [options]\n\nBenchmark rigs for code-execution sandboxes, with receipts.')
    .strict()
    .demandCommand(1, 'Name a verb; `rigor --help` lists them.')
    .recommendCommands()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((message, error) => {
      if (error && !(error instanceof InputError)) throw error;
      if (exitCode === EXIT.usage) return; // yargs may report one mistake twice ("did you mean", "unknown argument")
      process.stderr.write(`rigor: ${printableLines(error ? error.message : message)}\n`);
      if (!error) process.stderr.write('Run with --help for usage.\n');
      exitCode = EXIT.usage;
    });
  for (const command of await loadCommands(argv)) {
    parser.command({
      ...command,
      handler: async (args) => {
        // yargs calls .fail() and may still run the handler: a usage error stays exit 2.
        if (exitCode === EXIT.usage) return;
        exitCode = (await command.handler(args)) ?? EXIT.ok;
      },
    });
  }
  try {
    await parser.help().alias('h', 'help').version().parseAsync();
  } catch (error) {
    if (error instanceof InputError) {
      // .fail() may have reported it already: say it once.
      if (exitCode !== EXIT.usage) process.stderr.write(`rigor: ${printableLines(error.message)}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  return exitCode;
}
