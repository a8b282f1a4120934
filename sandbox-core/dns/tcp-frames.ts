/**
 * Splits a TCP byte stream into DNS messages. RFC 1035 §4.2.2: over TCP each
 * message is preceded by its length in two bytes, big-endian; a stream may
 * carry several messages in one chunk or one message across many chunks.
 */
export class DnsFrameReader {
  #pending: Buffer = Buffer.alloc(0);

  /** Bytes received that do not yet make a whole message: at most 2 + 65,535, as a length is two bytes. */
  get buffered(): number {
    return this.#pending.length;
  }

  /** Adds bytes read from the socket; returns the messages they complete, in order. */
  push(chunk: Buffer): Buffer[] {
    let pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const messages: Buffer[] = [];
    while (pending.length >= 2) {
      const end = 2 + pending.readUInt16BE(0);
      if (pending.length < end) break;
      messages.push(pending.subarray(2, end));
      pending = pending.subarray(end);
    }
    // A copy, so that a kept partial message does not pin the whole chunk it came in.
    this.#pending = Buffer.from(pending);
    return messages;
  }
}

/** `message` with its two-byte length prefix, ready to write to a TCP stream. */
export function frameDnsMessage(message: Buffer): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(message.length);
  return Buffer.concat([prefix, message]);
}
