/** Entry point of the Node agent: `node node-agent.mjs [--port PATH|auto] [--stage name=ms]...`. */
import { runNodeAgent } from './node-agent.ts';

await runNodeAgent(process.argv.slice(2));
