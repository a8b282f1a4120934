/**
 * envd's filesystem service on the sandbox core: stat, list, make dir,
 * remove and move run as small shell scripts inside the sandbox (stat, find,
 * mkdir, rm, mv of its own userland), whose exit status tells missing from
 * existing paths. Entries come back as envd's EntryInfo fields.
 */
import { DEFAULT_PATH } from '../default-path.ts';
import type { Sandbox } from '../backends/types.ts';
import { FileType } from './protocol.ts';

export interface Entry {
  name: string;
  type: number;
  path: string;
  size: bigint;
  mode: number;
  permissions: string;
  owner: string;
  group: string;
  modifiedTime: Date;
}

/** A path that does not exist (404 / NotFound), or one that does when it must not (409 / AlreadyExists). */
export class FsError extends Error {
  constructor(
    readonly kind: 'not-found' | 'exists' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

const STAT_FORMAT = '%f\t%s\t%U\t%G\t%Y\t%n';
const MISSING = 3;
const EXISTS = 4;
const NOT_A_DIRECTORY = 5;

const scripts = {
  stat: `[ -e "$0" ] || [ -L "$0" ] || exit ${MISSING}; exec stat -c '${STAT_FORMAT}' "$0"`,
  list: `[ -e "$0" ] || exit ${MISSING}; [ -d "$0" ] || exit ${NOT_A_DIRECTORY}; exec find "$0" -mindepth 1 -maxdepth "$1" -exec stat -c '${STAT_FORMAT}' {} +`,
  makeDir: `[ -e "$0" ] && exit ${EXISTS}; mkdir -p "$0" && exec stat -c '${STAT_FORMAT}' "$0"`,
  remove: `[ -e "$0" ] || [ -L "$0" ] || exit ${MISSING}; exec rm -rf "$0"`,
  move: `[ -e "$0" ] || [ -L "$0" ] || exit ${MISSING}; mkdir -p "$(dirname "$1")" && mv "$0" "$1" && exec stat -c '${STAT_FORMAT}' "$1"`,
  makeParent: `exec mkdir -p "$(dirname "$0")"`,
};

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** `ls -l`'s permission string of a mode: `drwxr-xr-x`. */
export function permissionString(mode: number): string {
  const kind = (mode & S_IFMT) === S_IFDIR ? 'd' : (mode & S_IFMT) === S_IFLNK ? 'L' : '-';
  let bits = '';
  for (let shift = 6; shift >= 0; shift -= 3) {
    const triple = (mode >> shift) & 7;
    bits += `${triple & 4 ? 'r' : '-'}${triple & 2 ? 'w' : '-'}${triple & 1 ? 'x' : '-'}`;
  }
  return kind + bits;
}

/** One line of `stat -c STAT_FORMAT`; the path is last so a tab in it survives. */
export function parseStatLine(line: string): Entry {
  const parts = line.split('\t');
  if (parts.length < 6) throw new Error(`unexpected stat output ${JSON.stringify(line)}`);
  const [rawMode, size, owner, group, mtime] = parts as [string, string, string, string, string];
  const path = parts.slice(5).join('\t');
  const mode = Number.parseInt(rawMode, 16);
  const format = mode & S_IFMT;
  return {
    name: path.slice(path.lastIndexOf('/') + 1) || path,
    type: format === S_IFDIR ? FileType.directory : format === S_IFLNK ? FileType.symlink : FileType.file,
    path,
    size: BigInt(size),
    mode: mode & 0o7777,
    permissions: permissionString(mode),
    owner,
    group,
    modifiedTime: new Date(Number(mtime) * 1000),
  };
}

export class SandboxFiles {
  constructor(private readonly sandbox: Sandbox) {}

  private async run(script: keyof typeof scripts, args: string[], path: string): Promise<string> {
    const result = await this.sandbox.exec({ argv: ['/bin/sh', '-c', scripts[script], ...args], env: { PATH: DEFAULT_PATH } });
    if (result.exitCode === MISSING) throw new FsError('not-found', `path ${path} does not exist`);
    if (result.exitCode === EXISTS) throw new FsError('exists', `path ${path} already exists`);
    if (result.exitCode === NOT_A_DIRECTORY) throw new FsError('invalid', `path ${path} is not a directory`);
    if (result.exitCode !== 0) throw new Error(`${script} ${path}: ${result.stderr.toString().trim() || `exit status ${result.exitCode}`}`);
    return result.stdout.toString();
  }

  private entries(output: string): Entry[] {
    return output.split('\n').filter((line) => line !== '').map(parseStatLine);
  }

  async stat(path: string): Promise<Entry> {
    return this.entries(await this.run('stat', [path], path))[0]!;
  }

  async list(path: string, depth: number): Promise<Entry[]> {
    return this.entries(await this.run('list', [path, String(Math.max(1, depth))], path)).sort((a, b) => a.path.localeCompare(b.path));
  }

  async makeDir(path: string): Promise<Entry> {
    return this.entries(await this.run('makeDir', [path], path))[0]!;
  }

  async remove(path: string): Promise<void> {
    await this.run('remove', [path], path);
  }

  async move(source: string, destination: string): Promise<Entry> {
    return this.entries(await this.run('move', [source, destination], source))[0]!;
  }

  /** Writes a file as envd does: missing parent directories are made. */
  async write(path: string, data: Uint8Array): Promise<void> {
    try {
      await this.sandbox.writeFile(path, data);
    } catch (error) {
      if (!/No such file or directory/.test(String(error))) throw error;
      await this.run('makeParent', [path], path);
      await this.sandbox.writeFile(path, data);
    }
  }

  async read(path: string): Promise<Buffer> {
    try {
      return await this.sandbox.readFile(path);
    } catch (error) {
      if (/No such file or directory/.test(String(error))) throw new FsError('not-found', `path ${path} does not exist`);
      if (/Is a directory/.test(String(error))) throw new FsError('invalid', `path ${path} is a directory`);
      throw error;
    }
  }
}
