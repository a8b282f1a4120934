/** Starting the real agents as child processes for the tests, over stdio or raw. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { agentCommand } from '../../../sandbox-core/agent/build.ts';
import { AgentClient } from '../../../sandbox-core/agent/client.ts';
import { FrameDecoder, type Frame } from '../../../sandbox-core/agent/protocol.ts';
import { waitFor } from '../../helpers/processes.ts';

export const KINDS = ['native', 'node'] as const;
export type AgentKind = (typeof KINDS)[number];

export interface RunningAgent {
  child: ChildProcessWithoutNullStreams;
  client: AgentClient;
  /** Resolves with the agent's exit code (or signal name). */
  exited: Promise<number | string>;
}

export function spawnAgent(command: string[], args: string[] = []): { child: ChildProcessWithoutNullStreams; exited: Promise<number | string> } {
  const [file, ...rest] = command as [string, ...string[]];
  const child = spawn(file, [...rest, ...args], { stdio: 'pipe' });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal as string))));
  return { child, exited };
}

export async function startAgent(kind: AgentKind, cacheDir: string, args: string[] = []): Promise<RunningAgent> {
  const { child, exited } = spawnAgent(await agentCommand(kind, { cacheDir }), args);
  const client = await AgentClient.connect(child.stdout, child.stdin, { helloTimeoutMs: 20_000 });
  return { child, client, exited };
}

/** Frames from a stream, one at a time, for tests that speak the protocol by hand. */
export class FrameReader {
  #frames: Frame[] = [];
  #waiting: ((frame: Frame) => void) | undefined;

  constructor(stream: NodeJS.ReadableStream) {
    const decoder = new FrameDecoder();
    stream.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        const waiting = this.#waiting;
        this.#waiting = undefined;
        if (waiting) waiting(frame);
        else this.#frames.push(frame);
      }
    });
  }

  next(): Promise<Frame> {
    const frame = this.#frames.shift();
    return frame ? Promise.resolve(frame) : new Promise((resolve) => (this.#waiting = resolve));
  }
}

/** A pid a command wrote into a file, once it is there. */
export async function pidFrom(file: string): Promise<number> {
  const written = (): boolean => existsSync(file) && readFileSync(file, 'utf8').trim() !== '';
  if (!(await waitFor(written))) throw new Error(`no pid in ${file} after 3 s`);
  return Number(readFileSync(file, 'utf8'));
}
