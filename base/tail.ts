/**
 * Keeping only the end of a process's output: enough to explain a failure,
 * never so much that a chatty command fills memory or an artifact.
 */

/** Bytes of output kept per stream. */
const TAIL_BYTES = 4096;

/** The last `count` lines of a text, without its trailing newline. */
export function lastLines(text: string, count: number): string {
  return text.replace(/\n$/, '').split('\n').slice(-count).join('\n');
}

/** Collects a stream's chunks but keeps only the last `limit` bytes. */
export class TailBuffer {
  #chunks: Buffer[] = [];
  #length = 0;

  constructor(readonly limit = TAIL_BYTES) {}

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    while (this.#chunks.length > 1 && this.#length - (this.#chunks[0] as Buffer).length >= this.limit) {
      this.#length -= (this.#chunks.shift() as Buffer).length;
    }
  }

  text(): string {
    const all = Buffer.concat(this.#chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}
