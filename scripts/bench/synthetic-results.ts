/**
 * Inputs for the site-build rig, made from the committed artifacts so they
 * have real shapes:
 *   synthetic-results.ts history <out> <count>  -> <out>/results/<rig>/*.json (count artifacts, round-robin over
 *                                                   the committed ones, samples scaled by a drifting factor and
 *                                                   summarised again) and <out>/rigs/ (copies of the rig files)
 *   synthetic-results.ts pair <out> <samples>   -> <out>/a.json and <out>/b.json, one cell each with <samples>
 *                                                   seeded log-normal samples, B 5% slower, sealed (digest) as written
 *   synthetic-results.ts fleet <out> <count>    -> <out>/fetched/<host>/<file>.json: one fleet run of the newest
 *                                                   committed startup artifact on <count> hosts (host ids and
 *                                                   hostnames fleet-host-<i>, samples scaled per host), laid out as
 *                                                   rigor fleet run fetches them
 * Untimed setup: the rig times what reads these, not this.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sealArtifact } from '../../runner/artifact/digest.ts';
import type { Artifact } from '../../runner/artifact/schema.ts';
import { restated } from '../../runner/artifact/recompute.ts';
import { createRng } from '../../runner/stats/random.ts';

const [mode, out, countText] = process.argv.slice(2);
const count = Number(countText);
if (!out || !Number.isInteger(count) || count < 1 || (mode !== 'history' && mode !== 'pair' && mode !== 'fleet')) {
  console.error('usage: synthetic-results.ts history|pair|fleet <out dir> <count>');
  process.exit(2);
}

function history(dir: string, n: number): void {
  const sources: Artifact[] = [];
  for (const rig of readdirSync('results')) {
    for (const file of readdirSync(join('results', rig)).filter((f) => f.endsWith('.json'))) {
      sources.push(JSON.parse(readFileSync(join('results', rig, file), 'utf8')) as Artifact);
    }
  }
  cpSync('rigs', join(dir, 'rigs'), { recursive: true });
  const random = createRng(42);
  const start = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < n; i++) {
    const artifact = structuredClone(sources[i % sources.length]!);
    const factor = 1 + 0.1 * Math.sin(i / 50) + 0.02 * random();
    for (const cell of artifact.cells) {
      for (const metric of Object.values(cell.metrics)) {
        metric.samples = metric.samples.map((x) => x * factor);
      }
    }
    const started = new Date(start + i * 3_600_000).toISOString();
    artifact.run = { ...artifact.run, id: `synthetic-${i}`, started_at: started, finished_at: started };
    artifact.git = { ...artifact.git, commit: i.toString(16).padStart(40, '0') };
    const rigDir = join(dir, 'results', artifact.rig.name);
    mkdirSync(rigDir, { recursive: true });
    writeFileSync(join(rigDir, `${started.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}_${artifact.git.commit!.slice(0, 7)}_${artifact.host.id}.json`), JSON.stringify(restated(artifact)));
  }
}

function fleet(dir: string, hosts: number): void {
  const newest = readdirSync(join('results', 'startup')).filter((f) => f.endsWith('.json')).sort().at(-1)!;
  const base = JSON.parse(readFileSync(join('results', 'startup', newest), 'utf8')) as Artifact;
  const random = createRng(11);
  for (let i = 0; i < hosts; i++) {
    const artifact = structuredClone(base);
    const factor = 0.8 + 0.4 * random();
    for (const cell of artifact.cells) {
      for (const metric of Object.values(cell.metrics)) {
        metric.samples = metric.samples.map((x) => x * factor);
      }
    }
    const name = `fleet-host-${i + 1}`;
    artifact.host = { ...artifact.host, id: name, hostname: name };
    artifact.run = { ...artifact.run, id: `synthetic-fleet-${i}` };
    const hostDir = join(dir, 'fetched', name);
    mkdirSync(hostDir, { recursive: true });
    writeFileSync(join(hostDir, newest.replace(/_[^_]+\.json$/, `_${name}.json`)), JSON.stringify(restated(artifact)));
  }
}

function pair(dir: string, samples: number): void {
  const base = JSON.parse(readFileSync(join('results', 'startup', readdirSync(join('results', 'startup')).sort().at(-1)!), 'utf8')) as Artifact;
  const random = createRng(7);
  // Log-normal around 1 ms: exp of a normal (Box-Muller).
  const lognormal = () => Math.exp(0.1 * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
  mkdirSync(dir, { recursive: true });
  for (const [name, scale] of [['a', 1], ['b', 1.05]] as const) {
    const artifact = structuredClone(base);
    const cell = artifact.cells[0]!;
    artifact.cells = [cell];
    const metric = cell.metrics.wall_ms!;
    metric.samples = Array.from({ length: samples }, () => lognormal() * scale);
    // Sealed as rigor writes an artifact (bootstrap record, content digest), so reading it checks the digest as it would a real one's.
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(sealArtifact(restated(artifact))));
  }
}

if (mode === 'history') history(out, count);
else if (mode === 'fleet') fleet(out, count);
else pair(out, count);
