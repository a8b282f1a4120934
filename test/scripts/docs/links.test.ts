/**
 * The front door and the reference pages: every link to a repository path
 * resolves, and the README's excerpt of `rigor run` output is what rigor
 * prints for the artifact it names.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readArtifact } from '../../../runner/artifact/read.ts';
import { formatResultsMatrix } from '../../../runner/report/results-matrix.ts';
import { brokenLinks } from '../../../scripts/docs/links.ts';

const PAGES = [
  'README.md',
  ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => join('docs', f)),
  'sandbox-core/README.md',
  'kernel/README.md',
  'sandbox-core/agent/PROTOCOL.md',
];

describe('documentation links', () => {
  it('every markdown link to a repository path (and #anchor) resolves', () => {
    expect(brokenLinks(PAGES).map((b) => `${b.file}:${b.line}: ${b.target}: ${b.why}`)).toEqual([]);
  });

  it('reports a link that does not resolve', () => {
    const broken = brokenLinks(['test/scripts/docs/fixtures/broken-links.md']);
    expect(broken.map((b) => b.target)).toEqual(['no-such-file.md', '../../../../README.md#no-such-heading']);
  });

  it('the README links every reference page', () => {
    const readme = readFileSync('README.md', 'utf8');
    for (const page of ['docs/rig-files.md', 'docs/artifacts-and-statistics.md', 'docs/cli.md', 'docs/results.md', 'docs/egress.md', 'docs/threat-model.md', 'sandbox-core/README.md', 'kernel/README.md', 'sandbox-core/agent/PROTOCOL.md']) {
      expect(readme, page).toContain(`](${page}`);
    }
  });
});

describe('README: what a run prints', () => {
  it('is an excerpt of what `rigor run` prints for the committed artifact it names', () => {
    const readme = readFileSync('README.md', 'utf8');
    const match = /<!-- run-excerpt: (\S+) -->\n```text\n([\s\S]*?)\n```/.exec(readme);
    expect(match, 'README.md has a <!-- run-excerpt: results/… --> block').not.toBeNull();
    const [, path, excerpt] = match!;
    const printed = new Set(
      formatResultsMatrix(readArtifact(path!), { maxWidth: 120, artifactPath: path, baseline: 'lifecycle' })
        .split('\n')
        .map((l) => l.trimEnd()),
    );
    const lines = excerpt!.split('\n').filter((l) => l !== '...');
    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) expect(printed.has(line.trimEnd()), `not in rigor's output for ${path}: ${line}`).toBe(true);
  });
});
