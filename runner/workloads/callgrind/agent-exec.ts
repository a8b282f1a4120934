/**
 * Driving the native agent under callgrind the way a backend does: the real
 * host client over the agent's stdin and stdout, EXEC requests one after
 * another, each reply awaited and checked, then end of stream, at which the
 * agent exits 0.
 */
import { AgentClient } from '../../../sandbox-core/agent/client.ts';
import type { DrivenChild, Driver } from './valgrind.ts';

export interface AgentExecDrive {
  requests: number;
  /** The argv every EXEC runs. */
  exec: readonly string[];
  /** How long the agent may take to say HELLO (valgrind's start-up comes first). */
  helloTimeoutMs: number;
  /** Told the agent's HELLO version (its build) once it said hello. */
  onHello?: (version: string) => void;
}

/** A Driver sending `requests` EXECs of `exec`; a reply that is not exit code 0 fails the run, naming the request. */
export function agentExecDriver(drive: AgentExecDrive): Driver {
  return async (child: DrivenChild, signal: AbortSignal) => {
    const client = await AgentClient.connect(child.stdout, child.stdin, { helloTimeoutMs: drive.helloTimeoutMs, signal });
    drive.onHello?.(client.hello.version);
    for (let request = 1; request <= drive.requests; request++) {
      signal.throwIfAborted();
      const result = await client.exec({ argv: [...drive.exec] });
      if (result.exitCode !== 0) {
        const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
        throw new Error(`EXEC ${request} of ${drive.requests}: ${drive.exec.join(' ')} ${how}, expected exit code 0`);
      }
    }
    child.stdin.end();
  };
}
