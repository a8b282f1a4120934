/** The CLI loads only the verb a command line names, so `rigor compare` starts without vega or the sandbox backends, and `rigor --help` without any verb. */
import { describe, expect, it } from 'vitest';
import { loadCommands, loadEveryVerb, VERBS } from '../../../../runner/cli/commands/index.ts';

const verbOf = (command: { command: string }) => command.command.split(' ')[0];

describe('loadCommands', () => {
  it('loads the one verb the command line names, and lists the others', async () => {
    for (const argv of [['compare', 'a.json', 'b.json'], ['site', '--help'], ['--help', 'site']]) {
      const commands = await loadCommands(argv);
      expect(commands.map(verbOf)).toEqual(VERBS);
      const [named] = argv.filter((arg) => !arg.startsWith('-'));
      const full = await loadEveryVerb();
      for (const [i, command] of commands.entries()) {
        // a verb loaded whole is its module's object; a listed one only carries its usage line and description
        expect(command === full[i], `${VERBS[i]} for ${argv.join(' ')}`).toBe(VERBS[i] === named);
      }
    }
  });

  it('loads no verb for --help, --version, a typo or nothing, and lists every one, each under its own name', async () => {
    const full = await loadEveryVerb();
    for (const argv of [[], ['--help'], ['--version'], ['gte']]) {
      const commands = await loadCommands(argv);
      expect(commands.map(verbOf)).toEqual(VERBS);
      expect(commands.some((command, i) => command === full[i])).toBe(false);
    }
    expect(VERBS).toEqual(['run', 'ab', 'list', 'validate', 'doctor', 'compare', 'gate', 'history', 'export', 'import', 'fleet', 'serve', 'site']);
  });

  it('lists each verb with the usage line and description its module has', async () => {
    const listed = await loadCommands(['--help']);
    const full = await loadEveryVerb();
    expect(listed.map(({ command, describe }) => ({ command, describe }))).toEqual(full.map(({ command, describe }) => ({ command, describe })));
  });
});
