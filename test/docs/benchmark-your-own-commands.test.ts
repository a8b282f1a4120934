/**
 * docs/benchmark-your-own-commands.md as a user follows it: every ```sh block,
 * in order, run as written with bash in a copy of this repository (git history
 * of its own, node_modules linked), each expected to succeed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { repositoryCopy } from '../helpers/ab-repo.ts';

const DOC = 'docs/benchmark-your-own-commands.md';
const SITE = '/tmp/rigor-walkthrough-site';

/** The shell blocks of the walkthrough, in order. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
}

describe('the walkthrough, run as written', () => {
  const repo = repositoryCopy();
  afterAll(() => {
    rmSync(repo, { recursive: true, force: true });
    rmSync(SITE, { recursive: true, force: true });
  });
  const blocks = shellBlocks(readFileSync(DOC, 'utf8'));

  it('has the steps from an empty file to the site', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    expect(blocks.join('\n')).toMatch(/rigor ab compress/);
  });

  blocks.forEach((block, i) => {
    it(`step ${i + 1}: ${block.split('\n')[0]}`, () => {
      const env = { ...process.env, CI: '', MISE_YES: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
      try {
        execFileSync('bash', ['-euo', 'pipefail', '-c', block], { cwd: repo, env, encoding: 'utf8', stdio: 'pipe', timeout: 600_000 });
      } catch (error) {
        const failed = error as { status: number; stdout: string; stderr: string };
        throw new Error(`step ${i + 1} exited ${failed.status}:\n${block}\n--- stdout\n${failed.stdout}\n--- stderr\n${failed.stderr}`);
      }
    });
  });
});
