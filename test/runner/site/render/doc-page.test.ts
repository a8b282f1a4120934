/** A docs page as a site page: which links become site links, which are named as repository paths. */
import { describe, expect, it } from 'vitest';
import { renderDocPage, siteLink } from '../../../../runner/site/render/doc-page.ts';

const targets = { artifacts: new Set(['results/kill/20261205T100000Z_abc1234_host.json']), rigs: new Set(['kill']) };

describe('siteLink', () => {
  it('sends an artifact the site carries to its viewer, pointer kept, and a rig file to its rig page', () => {
    expect(siteLink('../results/kill/20261205T100000Z_abc1234_host.json#/cells/0', 'docs/reliability.md', '', targets)).toEqual({
      href: 'results/kill/20261205T100000Z_abc1234_host.html#/cells/0',
    });
    expect(siteLink('../rigs/kill.rig.yaml', 'docs/reliability.md', '../', targets)).toEqual({ href: '../rig/kill.html' });
  });

  it('names what the site does not carry (a test, another doc, an artifact not on the site, a rig without a page) by its repository path', () => {
    expect(siteLink('../test/x.test.ts', 'docs/reliability.md', '', targets)).toEqual({ repoPath: 'test/x.test.ts' });
    expect(siteLink('egress.md#bypass', 'docs/reliability.md', '', targets)).toEqual({ repoPath: 'docs/egress.md' });
    expect(siteLink('../results/kill/gone.json', 'docs/reliability.md', '', targets)).toEqual({ repoPath: 'results/kill/gone.json' });
    expect(siteLink('../rigs/other.rig.yaml', 'docs/reliability.md', '', targets)).toEqual({ repoPath: 'rigs/other.rig.yaml' });
  });

  it('keeps external links and in-page anchors', () => {
    expect(siteLink('https://example.org/a', 'docs/reliability.md', '', targets)).toEqual({ href: 'https://example.org/a' });
    expect(siteLink('#kills', 'docs/reliability.md', '', targets)).toEqual({ href: '#kills' });
  });
});

describe('renderDocPage', () => {
  it('renders tables, drops editors\' markers and escapes a repository path it names', () => {
    const html = renderDocPage('<!-- section: x -->\n\n| a | b |\n| --- | --- |\n| [1](../rigs/kill.rig.yaml) | [t](../test/<x>.ts) |\n', 'docs/reliability.md', '', targets);
    expect(html).toContain('<table>');
    expect(html).toContain('<a href="rig/kill.html">1</a>');
    expect(html).toContain('<code>test/&lt;x&gt;.ts</code>');
    expect(html).not.toContain('section: x');
  });
});
