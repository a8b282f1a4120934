/** Artifacts as the site lists and links them, and which one is a rig's newest. */
import type { Artifact } from '../../artifact/schema.ts';

/** An artifact read from results/, with its path under the site root (e.g. results/startup/<stamp>_<commit>_<host>.json). */
export interface ArtifactInput {
  path: string;
  artifact: Artifact;
}

export interface ArtifactRef {
  /** The raw JSON, copied into the site at this path. */
  path: string;
  /** The generated page showing the JSON with an anchor per JSON pointer. */
  viewer: string;
  file: string;
  rig: string;
  startedAt: string;
  commit: string | null;
  commitShort: string;
  dirty: boolean;
  host: string;
  cpu: string;
  status: Artifact['run']['status'];
  importedFrom: string | null;
}

export function viewerPathOf(artifactPath: string): string {
  return artifactPath.replace(/\.json$/, '') + '.html';
}

export function artifactRef(input: ArtifactInput): ArtifactRef {
  const { artifact, path } = input;
  return {
    path,
    viewer: viewerPathOf(path),
    file: path.split('/').at(-1)!,
    rig: artifact.rig.name,
    startedAt: artifact.run.started_at,
    commit: artifact.git.commit,
    commitShort: artifact.git.commit ? artifact.git.commit.slice(0, 7) : 'no commit',
    dirty: artifact.git.dirty,
    host: artifact.host.id,
    cpu: artifact.host.cpu.model,
    status: artifact.run.status,
    importedFrom: artifact.run.imported_from ?? null,
  };
}

/** Newest first: by the run's start time, then by path (file names start with the UTC stamp). */
export function newestFirst(artifacts: ArtifactInput[]): ArtifactInput[] {
  return [...artifacts].sort(
    (x, y) =>
      Date.parse(y.artifact.run.started_at) - Date.parse(x.artifact.run.started_at) || (y.path < x.path ? -1 : y.path > x.path ? 1 : 0),
  );
}
