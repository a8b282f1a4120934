/**
 * Simulated hosts for fleet runs on one machine: each an `sshd -D` of its own
 * (its config, host key and authorized_keys in a temp dir, key auth for root)
 * in its own UTS, mount and pid namespaces (`unshare`), with its own hostname,
 * a bind-mounted /etc/machine-id (so rigor's host id differs per host) and a
 * /tmp of its own (a private tmpfs: the fleet's work directories, and no
 * host's rigor sweeps another's temp dirs; a `rigor_node_modules` under the
 * controller's /tmp, as in a CI clone there, is bound back in). They share everything else: the CPU,
 * memory, kernel, disk and installed tools of this one machine, so their
 * hardware fingerprints are, truthfully, one. Every sshd listens on a loopback
 * address (127.0.0.0/8) only.
 *
 * Used by the fleet tests and the fleet rig; run alone it starts N hosts,
 * writes <dir>/pid and then <dir>/ready (the inventory's path), prints the
 * inventory path, and stops the hosts on SIGINT/SIGTERM; var=value arguments
 * are added to every host's variables:
 *   node --import tsx scripts/fleet/simulated-hosts.ts 4 /tmp/fleet-hosts rigor_setup=false
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { shellQuote } from '../../base/shell-quote.ts';

/** Mounted in each host's namespace only: its sshd config, keys and machine-id (the same path in every host, each its own tmpfs). */
const PRIVATE = '/run/rigor-simulated-host';

export interface SimulatedHost {
  /** The inventory name, e.g. sim-1. */
  name: string;
  /** The hostname inside the host's UTS namespace, e.g. fleet-sim-1. */
  hostname: string;
  address: string;
  port: number;
  /** The pid of `unshare` (its child is pid 1 of the host's namespace: killing unshare kills the host). */
  pid(): number | undefined;
  /** The processes running in the host (its pid namespace), with their command lines; none when it is down. */
  processes(): { pid: number; cmdline: string }[];
  /** Start (again) on the same address, port, keys and identity. */
  start(): Promise<void>;
  /** SIGKILL: every process of the host dies at once, as a machine that loses power. */
  kill(): Promise<void>;
}

export interface SimulatedFleet {
  dir: string;
  hosts: SimulatedHost[];
  /** An Ansible inventory (INI) naming every host with its address, port, key and known_hosts. */
  inventory: string;
  stop(): Promise<void>;
}

function readlinkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/** Processes (seen from this namespace) in the pid namespace of `pid`'s first child: unshare --fork's pid 1. */
function processesInNamespaceOf(unsharePid: number): { pid: number; cmdline: string }[] {
  const pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  const ppid = (pid: string) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return -1;
    }
  };
  const init = pids.find((pid) => ppid(pid) === unsharePid);
  const namespace = init ? readlinkOrNull(`/proc/${init}/ns/pid`) : null;
  if (!namespace) return [];
  return pids.flatMap((pid) => {
    if (readlinkOrNull(`/proc/${pid}/ns/pid`) !== namespace) return [];
    try {
      return [{ pid: Number(pid), cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim() }];
    } catch {
      return [];
    }
  });
}

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: exit ${result.status}: ${result.stderr || result.error}`);
  return result.stdout;
}

/** A port free on `address` now (the kernel's choice); sshd binds it a moment later. */
function freePort(address: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** True once something accepts a TCP connection on address:port. */
function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((answer) => {
    const socket = createConnection({ host: address, port });
    socket.once('connect', () => {
      socket.destroy();
      answer(true);
    });
    socket.once('error', () => answer(false));
  });
}

/** A loopback address of 127.0.0.0/8 for host i, away from 127.0.0.1: 127.<random>.<random>.<i+2>. */
function loopbackBase(): string {
  const bytes = randomBytes(2);
  return `127.${1 + (bytes[0]! % 250)}.${bytes[1]!}`;
}

/**
 * Start `count` simulated hosts under `dir` (created). Root only: the
 * namespaces, the bind mounts and sshd's privilege separation need it.
 */
export async function startSimulatedFleet(
  count: number,
  dir: string,
  opts: { prefix?: string; /** More variables for every host, e.g. rigor_node_modules. */ vars?: Record<string, string> } = {},
): Promise<SimulatedFleet> {
  const prefix = opts.prefix ?? 'sim';
  const nodeModules = opts.vars?.rigor_node_modules;
  const keep = nodeModules !== undefined && (nodeModules === '/tmp' || nodeModules.startsWith('/tmp/')) ? [nodeModules] : [];
  dir = resolve(dir);
  mkdirSync(dir, { recursive: true });
  // sshd refuses to start without its privilege separation directory (the package makes it at boot).
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const clientKey = join(dir, 'id_ed25519');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'rigor-fleet-test', '-f', clientKey]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const knownHosts = join(dir, 'known_hosts');
  const base = loopbackBase();
  const hosts: SimulatedHost[] = [];
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}-${i + 1}`;
    const hostDir = join(dir, name);
    mkdirSync(hostDir, { recursive: true });
    const address = `${base}.${i + 2}`;
    const port = await freePort(address);
    const hostKey = join(hostDir, 'ssh_host_ed25519_key');
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', hostKey]);
    writeFileSync(knownHosts, `[${address}]:${port} ${readFileSync(`${hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`, { flag: 'a' });
    writeFileSync(join(hostDir, 'machine-id'), `${randomBytes(16).toString('hex')}\n`);
    writeFileSync(
      join(hostDir, 'sshd_config'),
      [
        `ListenAddress ${address}:${port}`,
        `HostKey ${PRIVATE}/ssh_host_ed25519_key`,
        `AuthorizedKeysFile ${PRIVATE}/authorized_keys`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        // the temp dir is not root-owned all the way up as StrictModes wants
        'StrictModes no',
        'PidFile none',
        'Subsystem sftp /usr/lib/openssh/sftp-server',
        // sessions must not wait on DNS for a loopback client
        'UseDNS no',
        'MaxStartups 100',
        'MaxSessions 100',
        '',
      ].join('\n'),
    );
    const hostname = `fleet-${name}`;
    // Inside the new namespaces: the host's files copied to a private tmpfs (a private /tmp then hides the test's),
    // its hostname and machine-id, a /tmp of its own, then sshd in the foreground.
    // What the host must still see under the controller's /tmp (a checkout's node_modules the hosts link, when the
    // checkout lives there, as a CI clone may): bound aside before the private /tmp covers it, then bound back.
    const kept = keep.map((path, k) => ({ path, aside: `${PRIVATE}/kept-${k}` }));
    const inside = [
      `hostname ${hostname}`,
      `mkdir -p ${PRIVATE}`,
      `mount -t tmpfs -o mode=0700 tmpfs ${PRIVATE}`,
      `cp ${hostDir}/sshd_config ${hostDir}/ssh_host_ed25519_key ${hostDir}/machine-id ${dir}/authorized_keys ${PRIVATE}/`,
      `mount --bind ${PRIVATE}/machine-id /etc/machine-id`,
      ...kept.flatMap(({ path, aside }) => [`mkdir -p ${aside}`, `mount --bind ${shellQuote([path])} ${aside}`]),
      'mount -t tmpfs -o mode=1777 tmpfs /tmp',
      ...kept.flatMap(({ path, aside }) => [`mkdir -p ${shellQuote([path])}`, `mount --bind ${aside} ${shellQuote([path])}`]),
      `exec /usr/sbin/sshd -D -e -f ${PRIVATE}/sshd_config`,
    ].join(' && ');
    let child: ChildProcess | undefined;
    const log = join(hostDir, 'sshd.log');
    const host: SimulatedHost = {
      name,
      hostname,
      address,
      port,
      pid: () => child?.pid,
      processes: () => (child?.pid && child.exitCode === null && child.signalCode === null ? processesInNamespaceOf(child.pid) : []),
      start: async () => {
        // --kill-child: when unshare dies, pid 1 of the namespace does, and with it every process of the host.
        child = spawn('unshare', ['--uts', '--mount', '--pid', '--fork', '--mount-proc', '--kill-child', 'sh', '-c', inside], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        child.stderr!.on('data', (chunk: Buffer) => writeFileSync(log, chunk, { flag: 'a' }));
        const started = child;
        const exited = new Promise<void>((done) => started.once('exit', () => done()));
        for (;;) {
          if (await accepts(address, port)) return;
          if (started.exitCode !== null || started.signalCode !== null) {
            throw new Error(`simulated host ${name}: sshd exited before it listened on ${address}:${port}: ${readFileSync(log, 'utf8').trim()}`);
          }
          await Promise.race([sleep(50), exited]);
        }
      },
      kill: async () => {
        const running = child;
        if (!running || running.exitCode !== null || running.signalCode !== null) return;
        const exited = new Promise<void>((done) => running.once('exit', () => done()));
        running.kill('SIGKILL');
        await exited;
      },
    };
    hosts.push(host);
    lines.push(`${name} ansible_host=${address} ansible_port=${port}`);
  }
  const inventory = join(dir, 'inventory.ini');
  writeFileSync(
    inventory,
    [
      '[simulated]',
      ...lines,
      '',
      '[simulated:vars]',
      'ansible_user=root',
      'ansible_python_interpreter=/usr/bin/python3',
      `ansible_ssh_private_key_file=${clientKey}`,
      `ansible_ssh_common_args='-o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes'`,
      ...Object.entries(opts.vars ?? {}).map(([key, value]) => `${key}=${value}`),
      '',
    ].join('\n'),
  );
  const fleet: SimulatedFleet = {
    dir,
    hosts,
    inventory,
    stop: async () => {
      await Promise.all(hosts.map((host) => host.kill()));
    },
  };
  try {
    await Promise.all(hosts.map((host) => host.start()));
  } catch (error) {
    await fleet.stop();
    throw error;
  }
  return fleet;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [count, dir, ...vars] = process.argv.slice(2);
  if (!count || !dir || !/^\d+$/.test(count) || vars.some((v) => !v.includes('='))) {
    process.stderr.write('usage: node --import tsx scripts/fleet/simulated-hosts.ts <count> <dir> [var=value ...]\n');
    process.exit(2);
  }
  const fleet = await startSimulatedFleet(Number(count), dir, { vars: Object.fromEntries(vars.map((v) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)])) });
  // for scripts that start it in the background: its pid, then the inventory's path once every host listens
  writeFileSync(join(fleet.dir, 'pid'), `${process.pid}\n`);
  writeFileSync(join(fleet.dir, 'ready'), `${fleet.inventory}\n`);
  process.stdout.write(`${fleet.inventory}\n`);
  const stop = () => void fleet.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
