/** The shape of one CLI verb: a yargs command whose handler returns the exit code. */
import type { Argv } from 'yargs';

export interface RigorCommand {
  command: string;
  describe: string;
  builder: (yargs: Argv) => Argv<any>;
  /** Returns the process exit code (0 when omitted); throw InputError for bad input (exit 2). */
  handler: (args: Record<string, any>) => Promise<number | void>;
}
