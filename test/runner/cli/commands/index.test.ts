/** The CLI loads only the verb a command line names, so `rigor compare` starts without vega or the sandbox backends. */
import { describe, expect, it } from 'vitest';
import { loadCommands, VERBS } from '../../../../runner/cli/commands/index.ts';

const verbOf = (command: { command: string }) => command.command.split(' ')[0];

describe('loadCommands', () => {
  it('loads the one verb the command line starts with', async () => {
    expect((await loadCommands(['compare', 'a.json', 'b.json'])).map(verbOf)).toEqual(['compare']);
    expect((await loadCommands(['site', '--help'])).map(verbOf)).toEqual(['site']);
  });

  it('loads every verb, each under its own name, for anything else', async () => {
    for (const argv of [[], ['--help'], ['--version'], ['gte']]) {
      expect((await loadCommands(argv)).map(verbOf)).toEqual(VERBS);
    }
    expect(VERBS).toEqual(['run', 'ab', 'list', 'validate', 'doctor', 'compare', 'gate', 'history', 'export', 'import', 'site']);
  });
});
