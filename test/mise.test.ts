/** Every rig has a bench:<rig> mise task and every bench task has its rig (read through the real mise). */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { listRigFiles, rigNameOf } from '../runner/rig/discover.ts';

interface MiseTask {
  name: string;
  run: string[];
  depends: string[];
}

const tasks: MiseTask[] = JSON.parse(
  execFileSync('node_modules/.bin/mise', ['tasks', 'ls', '--json'], { encoding: 'utf8', env: { ...process.env, MISE_YES: '1' } }),
);
const taskNames = new Set(tasks.map((task) => task.name));
const rigNames = listRigFiles().map(rigNameOf);

describe('mise tasks', () => {
  it('has the project tasks', () => {
    for (const name of ['setup', 'doctor', 'test', 'gate']) expect(taskNames, `task ${name}`).toContain(name);
  });

  it('has a bench:<rig> task for every rig file', () => {
    expect(rigNames.length).toBeGreaterThan(0);
    const missing = rigNames.filter((rig) => !taskNames.has(`bench:${rig}`));
    expect(missing, 'rigs without a bench task in mise.toml').toEqual([]);
  });

  it('has a rig file for every bench:<name> task, and the task runs that rig after setup', () => {
    for (const task of tasks.filter((t) => t.name.startsWith('bench:'))) {
      const rig = task.name.slice('bench:'.length);
      expect(rigNames, `${task.name} has no rigs/${rig}.rig.yaml`).toContain(rig);
      expect(task.run.join(' ')).toContain(`rigor.js run ${rig}`);
      expect(task.depends).toContain('setup');
    }
  });
});
