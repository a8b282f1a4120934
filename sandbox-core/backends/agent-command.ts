/**
 * The agent's command line, looked up once per kind per process: checking
 * the build cache hashes the agent sources (about 0.4 ms), which would
 * otherwise land on every create().
 */
import { agentCommand } from '../agent/build.ts';

const commands = new Map<'native' | 'node', Promise<string[]>>();

export function cachedAgentCommand(kind: 'native' | 'node'): Promise<string[]> {
  let command = commands.get(kind);
  if (!command) {
    command = agentCommand(kind);
    // A failed build is not cached, so the next create() tries again.
    command.catch(() => commands.delete(kind));
    commands.set(kind, command);
  }
  return command;
}
