/** `rigor doctor`: what on this host can bend the numbers, and what to do about it. */
import type { RigorCommand } from '../command.ts';
import { runDoctor, type DoctorCheck } from '../../host/doctor.ts';

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
  describe: 'Check this host for what bends benchmark numbers (load, governor, memory, KVM, tools)',
  builder: (yargs) =>
    yargs
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
      .option('force-kvm-probe', { type: 'boolean', default: false, describe: 'boot the KVM probe guest even if this boot has a verdict' })
      .example('$0 doctor', 'check load, governor, memory, KVM and tools before measuring'),
  handler: async (args) => {
    const report = await runDoctor({ forceKvmProbe: Boolean(args.forceKvmProbe) });
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatChecks(report.checks));
    // warnings are advice; only a fail means rigor cannot run here
    return report.checks.some((check) => check.status === 'fail') ? 1 : 0;
  },
};
