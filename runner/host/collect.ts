/** The host block of an artifact: which machine, in what state, with which tools. */
import { createHash } from 'node:crypto';
import os from 'node:os';
import type { Host } from '../artifact/schema.ts';
import { doctorWarnings, gatherHostFacts, hostChecks, kvmCheck, toolChecks } from './doctor.ts';
import { probeKvm } from '../../sandbox-core/kvm/probe.ts';
import { collectFingerprint } from './fingerprint.ts';
import { cpuModel, kernel, loadAverage, osRelease } from './os.ts';
import { readText } from '../../base/read-text.ts';
import { toolVersions } from './tools.ts';

/**
 * Short id for file names: the hostname, sanitized and cut to 20 characters,
 * plus 6 hex of sha256(machine-id), so two machines both named "vm" differ.
 */
export function hostId(): string {
  const name =
    os
      .hostname()
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 20)
      .replace(/-+$/, '') || 'host';
  // without a machine-id the hostname is the only stable thing left to hash
  const machineId = (readText('/etc/machine-id') ?? readText('/var/lib/dbus/machine-id'))?.trim() || os.hostname();
  return `${name}-${createHash('sha256').update(machineId).digest('hex').slice(0, 6)}`;
}

/**
 * Everything but load.after (null until finishHost). With probeKvm false no
 * guest is booted: the verdict cached this boot is used if there is one, and
 * KVM adds no warning.
 */
export async function collectHost(opts: { tools: string[]; probeKvm?: boolean }): Promise<Host> {
  const probe = opts.probeKvm ?? true;
  // read before the probe: a booting guest would raise the load it reports
  const facts = gatherHostFacts();
  const kvm = await probeKvm({ cachedOnly: !probe });
  const tools = toolVersions(opts.tools);
  const checks = [...hostChecks(facts), ...(probe ? [kvmCheck(kvm)] : []), ...toolChecks(tools)];
  return {
    id: hostId(),
    hostname: os.hostname(),
    os: osRelease(),
    kernel: kernel(),
    arch: os.arch(),
    cpu: { model: cpuModel(), logical_cpus: facts.logicalCpus },
    memory: { total_bytes: facts.memory.total_bytes, available_bytes: facts.memory.available_bytes },
    load: { before: facts.load, after: null },
    cpu_governor: facts.governor,
    node: process.versions.node,
    tools,
    virtualization: { kvm },
    warnings: doctorWarnings(checks),
    fingerprint: collectFingerprint(),
  };
}

/** A copy with load.after read now, at the end of the run. */
export function finishHost(host: Host): Host {
  return { ...host, load: { ...host.load, after: loadAverage() } };
}
