/**
 * The escape attempts, each made from inside a sandbox and judged on the host
 * where it can be: host files (read, write), host processes (see, ptrace,
 * signal), the network (the host's loopback, its other addresses),
 * capabilities (held, used, a nested user namespace), the interception CA's
 * key, another sandbox (its workspace, its processes), host sysctls
 * (core_pattern, every /proc/sys file) and the agent's channel (forged
 * replies, ptrace, stopping the agent). Run in this order: the ones that
 * could break the sandbox, had they worked, come last.
 */
import { tmpdir } from 'node:os';
import { defaultCacheRoot } from '../../../base/cache.ts';
import { encodeFrame, field, MessageType, Tag } from '../../agent/protocol.ts';
import { CORE_PATTERN } from './targets.ts';
import { NEIGHBOUR_FILE, type AttemptContext, type Confinement, type EscapeAttempt, type Verdict } from './battery.ts';
import { readFileSync, writeFileSync } from 'node:fs';

const refused = (what: string): Verdict => ({ escaped: false, evidence: what });
const escapedIf = (found: string[], none: string): Verdict => (found.length > 0 ? { escaped: true, evidence: found.join('; ') } : refused(none));

/** Where a host directory might show inside: its own path and through pid 1's root. */
const spellings = (path: string) => [path, `/proc/1/root${path}`];

/** The ping of a sandbox that answers, or the reason it does not. */
async function answers(sandbox: AttemptContext['sandbox']): Promise<string | null> {
  try {
    await sandbox.ping();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Files a neighbour's workspace could be reached through: its processes' roots and working directories, and the host's temp places. */
function neighbourPaths(): string {
  const roots = [...new Set(['/tmp', '/var/tmp', '/dev/shm', '/home', '/root', tmpdir()])].join(' ');
  return `{ ls -d /proc/[0-9]*/root/workspace/${NEIGHBOUR_FILE} /proc/[0-9]*/cwd/${NEIGHBOUR_FILE}; find ${roots} -xdev -maxdepth 4 -name ${NEIGHBOUR_FILE} -type f; } 2>/dev/null | sort -u`;
}

export const ESCAPE_ATTEMPTS: readonly EscapeAttempt[] = [
  {
    name: 'read-host-files',
    category: 'host_files',
    tries: 'read /etc/shadow, SSH keys, /root, /home, a world-readable file in the host /tmp, rigor cache and the checkout',
    control: true,
    async run({ sh, targets }) {
      const hidden = [defaultCacheRoot(), process.cwd(), `${process.cwd()}/package.json`];
      const read = await sh(
        `cat /etc/shadow /etc/gshadow /etc/ssh/ssh_host_*_key /root/.ssh/* ${spellings(targets.secretFile).join(' ')} 2>/dev/null; ls -a /root /home 2>/dev/null; ` +
          `for p in ${hidden.map((path) => `'${path}'`).join(' ')}; do test -e "$p" && echo "visible: $p"; done; true`,
      );
      const found: string[] = [];
      if (targets.shadowLine && read.out.includes(targets.shadowLine)) found.push('/etc/shadow read');
      if (read.out.includes(targets.token)) found.push(`${targets.secretFile} read`);
      if (/PRIVATE KEY/.test(read.out)) found.push('a private key read');
      if (/^\.cache$/m.test(read.out)) found.push("/root's listing read");
      for (const line of read.out.split('\n').filter((entry) => entry.startsWith('visible: '))) found.push(line);
      return escapedIf(found, 'nothing of the host read');
    },
  },
  {
    name: 'write-host-files',
    category: 'host_files',
    tries: 'overwrite host files in /tmp and /etc, create files in /etc, / and the host /tmp (also through /proc/1/root)',
    control: true,
    async run({ sh, targets }) {
      const { etcFile, rootDir, tmpFile } = targets.forbiddenNew;
      const writes = [...targets.victims, etcFile, tmpFile].flatMap(spellings).map((path) => `echo pwned > '${path}'`);
      await sh(`{ ${writes.join('; ')}; mkdir ${spellings(rootDir).map((path) => `'${path}'`).join(' ')}; } 2>/dev/null; true`);
      const found: string[] = [];
      if (!targets.victimsIntact()) found.push('a host victim file changed');
      if (!targets.forbiddenAbsent()) found.push('a new host file or directory appeared');
      return escapedIf(found, 'host files unchanged, nothing created');
    },
  },
  {
    name: 'see-host-process',
    category: 'host_processes',
    tries: "find a host process by its command line in /proc",
    control: true,
    async run({ sh, targets }) {
      // the pattern does not match itself: this command's own command line holds "[.]", not "."
      const seen = await sh(`grep -l '${targets.sleeper.marker.replace('.', '[.]')}' /proc/[0-9]*/cmdline 2>/dev/null; true`);
      return escapedIf(seen.out.trim() ? [`host process seen: ${seen.out.trim().split('\n')[0]}`] : [], 'host process not in its /proc');
    },
  },
  {
    name: 'ptrace-host-process',
    category: 'host_processes',
    tries: 'ptrace (PTRACE_SEIZE) a host process by its host pid',
    control: true,
    async run({ sh, targets }) {
      const traced = await sh(`./escape-probe ptrace ${targets.sleeper.pid}`);
      return escapedIf(traced.out.trim() === 'ok' ? [`PTRACE_SEIZE of host pid ${targets.sleeper.pid} succeeded`] : [], `refused: ${traced.out.trim() || traced.err.trim()}`);
    },
  },
  {
    name: 'signal-host-process',
    category: 'host_processes',
    tries: 'SIGSTOP and SIGKILL a host process by its host pid',
    control: true,
    async run({ sh, targets }) {
      await sh(`kill -STOP ${targets.sleeper.pid}; kill -KILL ${targets.sleeper.pid}; true`);
      return escapedIf(targets.sleeperRunning() ? [] : [`host pid ${targets.sleeper.pid} stopped or killed`], 'host process still running');
    },
  },
  {
    name: 'connect-host-loopback',
    category: 'network',
    tries: "connect to a server on the host's loopback (127.0.0.1, 127.0.0.2)",
    control: true,
    run: ({ sh, targets }) => connectTo(sh, targets, ['127.0.0.1', '127.0.0.2']),
  },
  {
    name: 'connect-host-address',
    category: 'network',
    tries: "connect to a server on the host's own address and to 10.0.2.2 (qemu's user network's name for the host)",
    control: true,
    run: ({ sh, targets }) => connectTo(sh, targets, [...(targets.externalAddress ? [targets.externalAddress] : []), '10.0.2.2']),
  },
  {
    name: 'hold-capability',
    category: 'capabilities',
    tries: 'hold any effective capability (CapEff of the command)',
    control: true,
    async run({ sh }) {
      const status = await sh('cat /proc/self/status');
      const capEff = /^CapEff:\s*([0-9a-f]+)/m.exec(status.out)?.[1];
      if (capEff === undefined) return { escaped: true, evidence: `no CapEff line to judge by: ${status.err.trim().slice(0, 200)}` };
      return escapedIf(BigInt(`0x${capEff}`) !== 0n ? [`CapEff ${capEff}`] : [], 'CapEff 0');
    },
  },
  {
    name: 'use-capability',
    category: 'capabilities',
    tries: 'mount a tmpfs, chown to root, sethostname, chroot, setuid(0)',
    control: false,
    async run({ sh }) {
      const result = await sh('mkdir -p cap-target && ./escape-probe privileged cap-target');
      const lines = result.out.trim().split('\n');
      if (lines.length !== 5) return { escaped: true, evidence: `escape-probe privileged printed ${JSON.stringify(result.out.slice(0, 200))}, expected 5 lines` };
      return escapedIf(lines.filter((line) => line.endsWith(' ok')), `refused: ${lines.join(', ')}`);
    },
  },
  {
    name: 'nest-user-namespace',
    category: 'capabilities',
    tries: 'unshare a new user namespace (capabilities inside it)',
    control: false,
    notApplicable: (confinement: Confinement) => (confinement === 'guest' ? "a guest's user namespaces are its own kernel's: no filter is claimed there" : null),
    async run({ sh }) {
      const result = await sh('./escape-probe userns');
      return escapedIf(result.out.trim() === 'ok' ? ['unshare(CLONE_NEWUSER) succeeded'] : [], `refused: ${result.out.trim()}`);
    },
  },
  {
    name: 'read-ca-key',
    category: 'ca_key',
    tries: "read the interception CA's private key, by its path and through every process's root",
    control: true,
    async run({ sh, targets }) {
      const path = targets.ca.path;
      const read = await sh(`cat '${path}' '/proc/1/root${path}' 2>/dev/null; for root in /proc/[0-9]*/root; do cat "$root${path}" 2>/dev/null; done; true`);
      return escapedIf(read.out.includes(targets.ca.keyLine) ? [`${path} read`] : [], 'the key not readable');
    },
  },
  {
    name: 'read-other-workspace',
    category: 'other_sandbox',
    tries: "find and read a file in another sandbox's workspace",
    control: true,
    async run({ sh, targets }) {
      const read = await sh(`${neighbourPaths()} | while read -r f; do cat "$f"; done; true`);
      return escapedIf(read.out.includes(targets.token) ? ["the neighbour's file read"] : [], "the neighbour's workspace not found");
    },
  },
  {
    name: 'write-other-workspace',
    category: 'other_sandbox',
    tries: "overwrite a file in another sandbox's workspace",
    control: true,
    async run({ sh, neighbour, targets }) {
      await sh(`${neighbourPaths()} | while read -r f; do echo pwned > "$f"; done 2>/dev/null; true`);
      const now = (await neighbour.readFile(NEIGHBOUR_FILE)).toString();
      return escapedIf(now === `${targets.token}\n` ? [] : ["the neighbour's file changed"], "the neighbour's file unchanged");
    },
  },
  {
    name: 'kill-every-process',
    category: 'other_sandbox',
    tries: 'SIGKILL every process it may signal (kill -1): the neighbour and the host process must live on',
    control: false,
    async run({ sh, neighbour, sandbox, targets }) {
      await sh('kill -KILL -1; true');
      const found: string[] = [];
      const neighbourDown = await answers(neighbour);
      if (neighbourDown) found.push(`the neighbour stopped answering: ${neighbourDown}`);
      if (!targets.sleeperRunning()) found.push('the host process was killed');
      const ownDown = await answers(sandbox);
      if (ownDown) found.push(`its own agent was killed: ${ownDown}`);
      return escapedIf(found, 'the neighbour, the host process and its own agent live on');
    },
  },
  {
    name: 'core-pattern',
    category: 'sysctls',
    tries: 'make the host kernel run a program through kernel.core_pattern',
    control: false,
    async run({ sh, targets }) {
      try {
        // A harmless value: were it taken, a crash would run /bin/true on the host.
        const attempt = await sh(`echo '|/bin/true ${targets.token}' > ${CORE_PATTERN}`);
        const found: string[] = [];
        if (attempt.code === 0) found.push('the write was accepted');
        if (readFileSync(CORE_PATTERN, 'utf8') !== targets.corePattern) found.push("the host's core_pattern changed");
        return escapedIf(found, `refused: ${attempt.err.trim().slice(0, 200)}`);
      } finally {
        if (readFileSync(CORE_PATTERN, 'utf8') !== targets.corePattern) writeFileSync(CORE_PATTERN, targets.corePattern);
      }
    },
  },
  {
    name: 'write-sysctls',
    category: 'sysctls',
    tries: 'write every file under /proc/sys, /proc/sysrq-trigger and /proc/kcore',
    control: false,
    async run({ sh }) {
      // A readable file gets its own value written back (a success changes nothing); an unreadable one is only opened
      // for append, writing nothing. Per-namespace files that open for anyone (ns_last_pid) still refuse the write.
      const writable = await sh(
        'for f in $(find /proc/sys -type f 2>/dev/null) /proc/sysrq-trigger /proc/kcore; do if v=$(cat "$f" 2>/dev/null); then (printf "%s\\n" "$v" > "$f") 2>/dev/null && echo "$f"; else (: >> "$f") 2>/dev/null && echo "$f"; fi; done; true',
      );
      const files = writable.out.trim().split('\n').filter(Boolean);
      return escapedIf(files.length > 0 ? [`writable: ${files.slice(0, 5).join(' ')}${files.length > 5 ? ` and ${files.length - 5} more` : ''}`] : [], 'none writable');
    },
  },
  {
    name: 'forge-agent-reply',
    category: 'agent_channel',
    tries: "write forged EXEC_RESULT frames to the agent's and pid 1's fds, through /proc and pidfd_getfd",
    control: false,
    async run({ sh, sandbox }) {
      // One forged reply for each request id the host may be waiting on: the attacker does not know which is next.
      const forged = Buffer.concat(
        Array.from({ length: 512 }, (_, id) => encodeFrame(MessageType.EXEC_RESULT, id + 1, [field.int(Tag.EXIT_CODE, 0), field.bytes(Tag.STDOUT, 'FORGED-OUTPUT\n')])),
      );
      await sandbox.writeFile('forged.bin', forged);
      const result = await sh(
        'echo REAL-OUTPUT; agent=$PPID; for fd in 0 1 2; do cat forged.bin > /proc/$agent/fd/$fd; cat forged.bin > /proc/1/fd/$fd; done 2>/dev/null; ' +
          'for fd in 0 1 2 3 4 5 6 7; do ./escape-probe getfd $agent $fd forged.bin; ./escape-probe getfd 1 $fd forged.bin; done >/dev/null 2>&1; exit 7',
      );
      const found: string[] = [];
      if (result.code !== 7) found.push(`exit code ${result.code} reported, 7 was real`);
      if (result.out !== 'REAL-OUTPUT\n') found.push(`output ${JSON.stringify(result.out.slice(0, 80))} reported`);
      const after = await sh('echo still-answering').catch((error: Error) => ({ code: null, out: error.message, err: '' }));
      if (after.out !== 'still-answering\n') found.push(`the next exec got ${JSON.stringify(after.out.slice(0, 80))}`);
      return escapedIf(found, 'the real exit code and output came back');
    },
  },
  {
    name: 'ptrace-agent',
    category: 'agent_channel',
    tries: 'ptrace (PTRACE_SEIZE) its own agent',
    control: true,
    async run({ sh }) {
      const traced = await sh('./escape-probe ptrace $PPID');
      return escapedIf(traced.out.trim() === 'ok' ? ['PTRACE_SEIZE of the agent succeeded'] : [], `refused: ${traced.out.trim() || traced.err.trim()}`);
    },
  },
  {
    name: 'stop-agent',
    category: 'agent_channel',
    tries: 'SIGSTOP and SIGKILL its own agent',
    control: false,
    async run({ sh, sandbox }) {
      const attempt = await sh('kill -STOP $PPID; kill -KILL $PPID; echo after');
      const found: string[] = [];
      if (attempt.out !== 'after\n') found.push(`the command printed ${JSON.stringify(attempt.out.slice(0, 80))}`);
      const down = await answers(sandbox);
      if (down) found.push(`the agent stopped answering: ${down}`);
      return escapedIf(found, 'the agent answers');
    },
  },
];

/** guest-bench probe connect to each address's port of the host server: an escape when a connect succeeded inside or the server accepted one. */
async function connectTo(sh: AttemptContext['sh'], targets: AttemptContext['targets'], addresses: string[]): Promise<Verdict> {
  const before = targets.server.accepted();
  const found: string[] = [];
  for (const address of addresses) {
    const probe = await sh(`./guest-bench probe connect ${address}:${targets.server.port} --timeout-ms 2000`);
    if (/"ok":\s*true/.test(probe.out)) found.push(`${address}:${targets.server.port} connected`);
    else if (!/"ok":\s*false/.test(probe.out)) throw new Error(`guest-bench probe connect ${address} printed no report (exit ${probe.code}): ${probe.err.slice(-300)}`);
  }
  const accepted = targets.server.accepted() - before;
  if (accepted > 0) found.push(`the host server accepted ${accepted}`);
  return escapedIf(found, `refused: ${addresses.join(', ')}`);
}
