/**
 * The agent's command line, looked up once per kind per process: checking
 * the build cache hashes the agent sources (about 0.4 ms), which would
 * otherwise land on every create(). A failed build is not cached, so the
 * next create() tries again.
 */
import { agentCommand } from '../agent/build.ts';
import { cacheUntilFailure } from './cache-until-failure.ts';

const commands = {
  native: cacheUntilFailure(() => agentCommand('native')),
  node: cacheUntilFailure(() => agentCommand('node')),
};

export function cachedAgentCommand(kind: 'native' | 'node'): Promise<string[]> {
  return commands[kind]();
}
