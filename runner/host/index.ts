export { collectHost, finishHost, hostId } from './collect.ts';
export { doctorWarnings, runDoctor, type DoctorCheck } from './doctor.ts';
export { collectFingerprint, describeDifferences, diffFingerprints, recordedFingerprint, type FingerprintDifference } from './fingerprint.ts';
export { collectGit, type GitState } from './git.ts';
export { probeKvm, type KvmStatus, type ProbeKvmOptions } from '../../sandbox-core/kvm/probe.ts';
export { toolVersion, toolVersions } from './tools.ts';
