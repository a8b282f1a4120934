import type { RigorCommand } from '../command.ts';
import { compareCommand } from './compare.ts';
import { doctorCommand } from './doctor.ts';
import { exportCommand } from './export.ts';
import { gateCommand } from './gate.ts';
import { historyCommand } from './history.ts';
import { importCommand } from './import.ts';
import { listCommand } from './list.ts';
import { runCommand } from './run.ts';
import { siteCommand } from './site.ts';
import { validateCommand } from './validate.ts';

export const commands: RigorCommand[] = [runCommand, listCommand, validateCommand, doctorCommand, compareCommand, gateCommand, historyCommand, exportCommand, importCommand, siteCommand];
