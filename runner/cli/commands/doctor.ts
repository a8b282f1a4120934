/** `rigor doctor`: what on this host can bend the numbers, and what to do about it; what killed runs left, removed with --clean. */
import type { RigorCommand } from '../command.ts';
import { countByKind, runDoctor, type DoctorCheck } from '../../host/doctor.ts';
import { findLeftovers, removeLeftovers, type CleanResult, type Leftover } from '../../../sandbox-core/leftovers.ts';

const WIDTH = 100;
const GAP = '  ';

/** Greedy word wrap; a word longer than the width is cut. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while (word.length > width) {
      if (line) lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = '';
    }
    if (!word) continue;
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

/** check | status | value | advice, aligned, wrapped to fit `width` columns. */
export function formatChecks(checks: DoctorCheck[], width = WIDTH): string {
  const header: DoctorCheck = { name: 'check', status: 'ok', value: 'value', advice: 'advice' };
  const nameWidth = Math.max(...[header, ...checks].map((check) => check.name.length));
  const statusWidth = 6;
  const rest = width - nameWidth - statusWidth - 3 * GAP.length;
  const valueWidth = Math.min(Math.max(...[header, ...checks].map((check) => check.value.length)), Math.floor(rest * 0.4));
  const adviceWidth = rest - valueWidth;
  const rows = [['check', 'status', 'value', 'advice'], ...checks.map((check) => [check.name, check.status, check.value, check.advice ?? ''])];
  const out: string[] = [];
  for (const [name, status, value, advice] of rows as [string, string, string, string][]) {
    const values = wrap(value, valueWidth);
    const advices = wrap(advice, adviceWidth);
    for (let i = 0; i < Math.max(values.length, advices.length); i++) {
      const cells = [i === 0 ? name : '', i === 0 ? status : '', values[i] ?? '', advices[i] ?? ''];
      out.push([cells[0]!.padEnd(nameWidth), cells[1]!.padEnd(statusWidth), cells[2]!.padEnd(valueWidth), cells[3]].join(GAP).trimEnd());
    }
  }
  return `${out.join('\n')}\n`;
}

export const doctorCommand: RigorCommand = {
  command: 'doctor',
  describe: 'Check this host for what bends benchmark numbers (load, governor, memory, KVM, tools) and for what killed runs left behind',
  builder: (yargs) =>
    yargs
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON (every leftover listed)' })
      .option('force-kvm-probe', { type: 'boolean', default: false, describe: 'boot the KVM probe guest even if this boot has a verdict' })
      .option('clean', {
        type: 'boolean',
        default: false,
        describe: 'remove what killed rigor runs left (processes, containers, mounts, cgroups, temp dirs, private dockerd slots, locks of dead owners) and report each',
      })
      .example('$0 doctor', 'check load, governor, memory, KVM, tools and leftovers before measuring')
      .example('$0 doctor --clean', 'also remove what killed runs left behind'),
  handler: async (args) => {
    const found = await findLeftovers();
    const cleaned = args.clean ? await removeLeftovers(found) : undefined;
    // after a clean, the check reports what is still there
    const leftovers: Leftover[] = cleaned ? await findLeftovers() : found;
    const report = await runDoctor({ forceKvmProbe: Boolean(args.forceKvmProbe), leftovers });
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ ...report, leftovers: leftovers.map(shown), ...(cleaned ? { cleaned } : {}) }, null, 2)}\n`);
    } else {
      process.stdout.write(formatChecks(report.checks));
      if (cleaned) process.stdout.write(formatCleaned(cleaned));
    }
    // warnings are advice; only a fail means rigor cannot run here (or a leftover --clean could not remove)
    return report.checks.some((check) => check.status === 'fail') || (cleaned?.failed.length ?? 0) > 0 ? 1 : 0;
  },
};

/** A leftover as reported (without how it is removed). */
function shown(leftover: Leftover): Leftover {
  return { kind: leftover.kind, what: leftover.what, owner: leftover.owner };
}

/** What --clean removed, by kind, and each it could not remove with why. */
export function formatCleaned(cleaned: CleanResult): string {
  const lines = [`\nremoved: ${cleaned.removed.length === 0 ? 'nothing' : countByKind(cleaned.removed)}`];
  for (const failure of cleaned.failed) lines.push(`not removed: ${failure.kind} ${failure.what}: ${failure.error}`);
  return `${lines.join('\n')}\n`;
}
