/** docs/cli.md holds the real CLI's --help for every verb; stale = a failing test naming the fix. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VERBS } from '../../../runner/cli/commands/index.ts';
import { CLI_DOC, renderCliDoc } from '../../../scripts/docs/cli-doc.ts';

describe('docs/cli.md', () => {
  it('matches the --help of every verb (regenerate with `npm run docs`)', async () => {
    const committed = readFileSync(CLI_DOC, 'utf8');
    const fresh = await renderCliDoc(committed);
    expect(committed === fresh, `${CLI_DOC} is stale: run \`npm run docs\` and commit it`).toBe(true);
  });

  it('has a help block for rigor and for each verb', () => {
    const committed = readFileSync(CLI_DOC, 'utf8');
    expect(committed).toContain('<!-- help: rigor -->');
    for (const verb of VERBS) expect(committed).toContain(`<!-- help: rigor ${verb} -->`);
  });

  it('adds a section for a verb that has no block yet, and refuses a block for a verb that does not exist', async () => {
    const added = await renderCliDoc('# CLI\n');
    expect(added).toContain('<!-- help: rigor list -->\n```text\n$ rigor list --help\nrigor list');
    await expect(renderCliDoc('<!-- help: rigor nosuchverb -->\n<!-- /help -->\n')).rejects.toThrow(/nosuchverb.*not a verb/);
  });
});
