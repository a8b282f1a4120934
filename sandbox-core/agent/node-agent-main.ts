/** Entry point of the Node agent: `node node-agent.mjs [--port PATH|auto] [--stage name=ms]... [--exec-user UID:GID]` (see PROTOCOL.md). */
import { runNodeAgent } from './node-agent.ts';

await runNodeAgent(process.argv.slice(2));
