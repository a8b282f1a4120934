/** Writing artifacts: validated first, atomically, never over an existing file. */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../../base/errors.ts';
import { sealArtifact } from './digest.ts';
import type { Artifact } from './schema.ts';
import { artifactText, assertArtifactSize } from './size.ts';
import { assertValidArtifact } from './validate.ts';

/** `20261122T010203Z` from an ISO timestamp: sortable, and safe in file names. */
export function fileStamp(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z').replaceAll('-', '').replaceAll(':', '');
}

/** results/<rig>/<UTC stamp>_<commit7>_<host-id>.json */
export function artifactFileName(artifact: Artifact): string {
  const commit = artifact.git.commit ? artifact.git.commit.slice(0, 7) : 'nocommit';
  return `${fileStamp(artifact.run.started_at)}_${commit}_${artifact.host.id}.json`;
}

/**
 * Validate against schemas/artifact.schema.json and refuse one over 2 MB
 * (size.ts), then write to a temp file in the same directory, fsync, and
 * hard-link it into place: link() fails when the name exists, so an existing
 * artifact is never replaced, and a reader never sees a half-written file.
 */
export function writeArtifact(artifact: Artifact, dir: string): string {
  artifact = sealArtifact(artifact);
  assertValidArtifact(artifact, join(dir, artifactFileName(artifact)));
  const text = artifactText(artifact);
  assertArtifactSize(artifact, text, join(dir, artifactFileName(artifact)));
  return writeNewFile(dir, artifactFileName(artifact), text);
}

/** A write that failed for a reason of the destination (full, read-only, a file in the way): its message names the file and the reason. */
export class ArtifactWriteError extends InputError {
  override name = 'ArtifactWriteError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'a read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'a file is in the way of the folder',
  EIO: 'an I/O error',
};

/** "no space left on the device (ENOSPC)" */
export function writeReason(error: unknown): { code: string; reason: string } {
  const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
  return { code, reason: `${REASONS[code] ?? 'the system refused'} (${code})` };
}

function failure(path: string, what: string, error: unknown): ArtifactWriteError {
  const { code, reason } = writeReason(error);
  return new ArtifactWriteError(`${path}: cannot ${what}: ${reason}`, code);
}

/** write() may write fewer bytes than asked (a nearly full disk): loop until every byte is written, or fail. */
export function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let offset = 0; offset < bytes.length; ) {
    const written = writeSync(fd, bytes, offset, bytes.length - offset);
    if (written <= 0) throw Object.assign(new Error('write() wrote nothing'), { code: 'EIO' });
    offset += written;
  }
}

/**
 * Throws an ArtifactWriteError unless files can be created in `dir`, or in
 * the nearest folder above it that exists (where `dir` would be made): checked
 * before a run measures anything, so a wrong --out costs nothing. A probe file
 * is created and removed, since root passes mode-bit checks but not a
 * read-only mount.
 */
export function assertWritableDestination(dir: string): void {
  let existing = resolve(dir);
  let stats;
  for (;;) {
    try {
      stats = statSync(existing);
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTDIR: a file on the way up, found by the next stat.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(existing) === existing) throw failure(dir, 'write artifacts there', error);
      existing = dirname(existing);
    }
  }
  if (!stats.isDirectory()) {
    const what = existing === resolve(dir) ? 'it is a file, not a folder' : `${existing} is a file, not a folder`;
    throw new ArtifactWriteError(`${dir}: cannot write artifacts there: ${what}`, 'ENOTDIR');
  }
  const probe = join(existing, `.rigor-probe.${process.pid}.tmp`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (error) {
    throw failure(dir, existing === resolve(dir) ? 'write artifacts there' : `write artifacts there (checked in ${existing}, which would hold it)`, error);
  }
  unlinkSync(probe);
}

/**
 * Write `text` as dir/name atomically and never over an existing file: a temp
 * file in the same directory, every byte written and fsynced, hard-linked into
 * place (link() fails when the name exists); a taken name gets a -1, -2, ...
 * suffix before .json. Returns the path written. On any failure the temp file
 * is removed and an ArtifactWriteError names the file and the reason.
 */
export function writeNewFile(dir: string, name: string, text: string): string {
  const final = join(dir, name);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    // A recursive mkdir under a read-only mount says ENOENT: the destination check finds the real reason.
    assertWritableDestination(dir);
    throw failure(final, `create its folder ${dir}`, error);
  }
  const temp = join(dir, `.${basename(final)}.${process.pid}.tmp`);
  let fd: number;
  try {
    fd = openSync(temp, 'wx');
  } catch (error) {
    throw failure(final, 'write', error);
  }
  try {
    try {
      writeAll(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    for (let attempt = 0; ; attempt++) {
      // Two runs in the same second on one host and commit: suffix, never replace.
      const target = attempt === 0 ? final : final.replace(/\.json$/, `-${attempt}.json`);
      try {
        linkSync(temp, target);
        syncDirectory(dirname(target));
        return target;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 100) throw error;
      }
    }
  } catch (error) {
    throw failure(final, 'write', error);
  } finally {
    rmSync(temp, { force: true });
  }
}

/**
 * Write `text` to `path`, replacing it atomically (temp file beside it,
 * renamed over it): a reader sees the old file or the new, never half of one.
 */
export function replaceFile(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(temp, 'wx');
    try {
      writeAll(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw failure(path, 'write', error);
  }
}

/** Make the new directory entry durable too. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
