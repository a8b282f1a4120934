/**
 * docs/cli.md: the hand-written notes stay, and between each pair of markers
 *
 *   <!-- help: rigor run --> … <!-- /help -->
 *
 * the `--help` output of the real CLI is put (`node bin/rigor.js <verb> --help`,
 * stdout a pipe, so yargs wraps at 100 columns: runner/cli/main.ts). A verb
 * with no markers yet gets a section of its own at the end; markers naming a
 * verb the CLI does not have are an error. `npm run docs` writes the file;
 * test/scripts/docs/cli-doc.test.ts fails when it is stale.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { VERBS } from '../../runner/cli/commands/index.ts';

export const CLI_DOC = 'docs/cli.md';
const run = promisify(execFile);
const BLOCK = /<!-- help: rigor(?: (\S+))? -->\n[\s\S]*?<!-- \/help -->/g;

/** `rigor --help` (verb '') or `rigor <verb> --help`, as a user's pipe would get it. */
export async function helpText(verb: string): Promise<string> {
  const args = ['bin/rigor.js', ...(verb ? [verb] : []), '--help'];
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  const { stdout } = await run(process.execPath, args, { env, encoding: 'utf8' });
  return stdout.trimEnd();
}

function block(verb: string, help: string): string {
  return `<!-- help: rigor${verb ? ` ${verb}` : ''} -->\n\`\`\`text\n$ rigor ${verb ? `${verb} ` : ''}--help\n${help}\n\`\`\`\n<!-- /help -->`;
}

/** Run the verbs' --help two at a time (this machine has 2 cores). */
async function allHelp(verbs: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const queue = [...verbs];
  const worker = async () => {
    for (let verb = queue.shift(); verb !== undefined; verb = queue.shift()) out.set(verb, await helpText(verb));
  };
  await Promise.all([worker(), worker()]);
  return out;
}

/** The text docs/cli.md should hold, given what it holds now. */
export async function renderCliDoc(current: string): Promise<string> {
  const verbs = ['', ...VERBS];
  const help = await allHelp(verbs);
  const seen = new Set<string>();
  let text = current.replace(BLOCK, (_match, verb: string | undefined) => {
    const name = verb ?? '';
    if (!help.has(name)) throw new Error(`${CLI_DOC}: a help block names "rigor ${name}", which is not a verb (verbs: ${VERBS.join(', ')})`);
    seen.add(name);
    return block(name, help.get(name)!);
  });
  const missing = verbs.filter((verb) => !seen.has(verb));
  if (missing.length) {
    text = `${text.trimEnd()}\n${missing.map((verb) => `\n## \`rigor ${verb || '--help'}\`\n\n${block(verb, help.get(verb)!)}\n`).join('')}`;
  }
  return text.endsWith('\n') ? text : `${text}\n`;
}

export function readCliDoc(): string {
  return existsSync(CLI_DOC) ? readFileSync(CLI_DOC, 'utf8') : '# The rigor command line\n';
}
