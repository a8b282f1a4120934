/**
 * Which of a rig's artifacts the site shows and judges, chosen as the CLI
 * chooses for a rig name: the newest complete run (runner/compare/incomplete.ts)
 * is the rig's current one, the complete run before it its baseline, and the
 * gates are judged on that pair as `rigor gate <rig> --baseline <rig>` judges
 * them, so the rig page and the compare page beside it say the same. Pure.
 */
import type { GateResult } from '../../artifact/schema.ts';
import { whyIncomplete } from '../../compare/incomplete.ts';
import { evaluateGates } from '../../gate/evaluate.ts';
import { evaluatePairedGates } from '../../gate/paired.ts';
import type { ArtifactInput } from './artifact-ref.ts';

export interface RigView {
  /** Every artifact of the rig, newest first. */
  artifacts: ArtifactInput[];
  /** The newest complete run; the newest artifact when no run is complete; null when there is none. */
  current: ArtifactInput | null;
  /** The newest complete run before `current`: what relative gates and the compare page judge it against. */
  baseline: ArtifactInput | null;
  /** Newer artifacts than `current` that are not whole runs, with why. */
  passedOver: { input: ArtifactInput; reason: string }[];
  /** The rig's gates on `current`, relative ones against `baseline` (paired for an A/B artifact). */
  gates: GateResult[];
}

/** `artifacts` newest first (artifact-ref.ts newestFirst). */
export function rigView(artifacts: ArtifactInput[]): RigView {
  const complete = artifacts.filter((input) => whyIncomplete(input.artifact) === null);
  const current = complete[0] ?? artifacts[0] ?? null;
  const baseline = complete.find((input) => input !== current) ?? null;
  const passedOver = current ? artifacts.slice(0, artifacts.indexOf(current)).map((input) => ({ input, reason: whyIncomplete(input.artifact)! })) : [];
  return { artifacts, current, baseline, passedOver, gates: current ? judgeGates(current, baseline) : [] };
}

function judgeGates(current: ArtifactInput, baseline: ArtifactInput | null): GateResult[] {
  const { artifact } = current;
  const { gates, metrics } = artifact.rig.definition;
  if (artifact.ab) return evaluatePairedGates(gates, metrics, { ...artifact, ab: artifact.ab });
  return evaluateGates(gates, metrics, artifact, baseline?.artifact);
}
