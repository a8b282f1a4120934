/**
 * The agent wire protocol, version 1 (PROTOCOL.md next to this file): frame
 * encoding, an incremental decoder, and typed access to a body's fields.
 * Shared by the host's client and the Node agent.
 */

export const PROTOCOL_VERSION = 1;
/** Largest `length` of a frame: 64 MiB of file data plus room for the header and other fields. */
export const MAX_FRAME_LENGTH = 64 * 1024 * 1024 + 64 * 1024;
/** Largest file READ_FILE answers with. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** Largest stdout or stderr an EXEC_RESULT carries; the rest is cut and `truncated` set. */
export const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
/** Most bytes of entropy a RESEED carries. */
export const MAX_RESEED_BYTES = 512;
/** Smallest `length`: version, type and id with an empty body. */
const HEADER_LENGTH = 6;

export const MessageType = {
  HELLO: 0x01,
  PING: 0x02,
  PONG: 0x03,
  EXEC: 0x04,
  EXEC_RESULT: 0x05,
  WRITE_FILE: 0x06,
  READ_FILE: 0x07,
  FILE_DATA: 0x08,
  OK: 0x09,
  STATS: 0x0a,
  STATS_RESULT: 0x0b,
  RESEED: 0x0c,
  OUTPUT: 0x0d,
  ERROR: 0x0f,
} as const;

export const Tag = {
  VERSION: 0x10,
  STAGE: 0x11,
  KIND: 0x12,
  NOW_MS: 0x20,
  ARGV: 0x30,
  ENV: 0x31,
  CWD: 0x32,
  STDIN: 0x33,
  TIMEOUT_MS: 0x34,
  STREAM: 0x35,
  EXIT_CODE: 0x40,
  SIGNAL: 0x41,
  STDOUT: 0x42,
  STDERR: 0x43,
  TIMED_OUT: 0x44,
  RECEIVED_MS: 0x45,
  SPAWNED_MS: 0x46,
  EXITED_MS: 0x47,
  TRUNCATED: 0x48,
  PATH: 0x50,
  DATA: 0x51,
  MODE: 0x52,
  LINE: 0x60,
  MESSAGE: 0x70,
  ENTROPY: 0x80,
  EPOCH_US: 0x81,
} as const;

export interface Field {
  tag: number;
  value: Uint8Array;
}

export interface Frame {
  version: number;
  type: number;
  id: number;
  body: Buffer;
}

/** A byte stream that cannot be read as frames any more (bad length, cut short). */
export class FrameError extends Error {
  override name = 'FrameError';
  /** The frames the same chunk completed before the bad length: whole and valid, to be handled before the error. */
  frames: Frame[] = [];
}

/** A frame whose body is not a sequence of whole fields, or a field of the wrong size. */
export class FieldError extends Error {
  override name = 'FieldError';
}

export const field = {
  bytes: (tag: number, value: Uint8Array | string): Field => ({ tag, value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value }),
  string: (tag: number, value: string): Field => ({ tag, value: Buffer.from(value, 'utf8') }),
  int: (tag: number, value: number): Field => {
    const bytes = Buffer.alloc(8);
    bytes.writeBigInt64BE(BigInt(Math.trunc(value)));
    return { tag, value: bytes };
  },
  /** A guest-clock time: decimal milliseconds with three decimals. */
  ms: (tag: number, ms: number): Field => ({ tag, value: Buffer.from(ms.toFixed(3), 'utf8') }),
};

export function encodeFrame(type: number, id: number, fields: readonly Field[] = [], version = PROTOCOL_VERSION): Buffer {
  const length = HEADER_LENGTH + fields.reduce((sum, f) => sum + 5 + f.value.length, 0);
  if (length > MAX_FRAME_LENGTH) {
    throw new FrameError(`frame of type 0x${type.toString(16)} would be ${length} bytes long, more than the protocol's ${MAX_FRAME_LENGTH}`);
  }
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32BE(length, 0);
  frame.writeUInt8(version, 4);
  frame.writeUInt8(type, 5);
  frame.writeUInt32BE(id >>> 0, 6);
  let offset = 10;
  for (const f of fields) {
    frame.writeUInt8(f.tag, offset);
    frame.writeUInt32BE(f.value.length, offset + 1);
    frame.set(f.value, offset + 5);
    offset += 5 + f.value.length;
  }
  return frame;
}

/** Splits a body into its fields; throws FieldError when one overruns the body. */
export function decodeFields(body: Buffer): Field[] {
  const fields: Field[] = [];
  let offset = 0;
  while (offset < body.length) {
    if (body.length - offset < 5 || body.length - offset - 5 < body.readUInt32BE(offset + 1)) {
      throw new FieldError(`malformed field at offset ${offset}`);
    }
    const length = body.readUInt32BE(offset + 1);
    fields.push({ tag: body[offset] as number, value: body.subarray(offset + 5, offset + 5 + length) });
    offset += 5 + length;
  }
  return fields;
}

/** Typed reads of a body's fields; tags the reader does not ask for are skipped. */
export class Fields {
  constructor(readonly list: readonly Field[]) {}

  static of(frame: Frame): Fields {
    return new Fields(decodeFields(frame.body));
  }

  /** The last value with this tag. */
  bytes(tag: number): Buffer | undefined {
    for (let i = this.list.length - 1; i >= 0; i--) {
      const found = this.list[i] as Field;
      if (found.tag === tag) return Buffer.from(found.value.buffer, found.value.byteOffset, found.value.length);
    }
    return undefined;
  }

  string(tag: number): string | undefined {
    return this.bytes(tag)?.toString('utf8');
  }

  /** Every value with this tag, in order (argv, env, stages). */
  strings(tag: number): string[] {
    return this.list.filter((f) => f.tag === tag).map((f) => Buffer.from(f.value).toString('utf8'));
  }

  int(tag: number): number | undefined {
    const value = this.bytes(tag);
    if (value === undefined) return undefined;
    if (value.length !== 8) throw new FieldError(`field 0x${tag.toString(16)} is an integer of 8 bytes, found ${value.length}`);
    return Number(value.readBigInt64BE(0));
  }

  /** A guest-clock time sent as a decimal string. */
  ms(tag: number): number | undefined {
    const text = this.string(tag);
    return text === undefined ? undefined : Number(text);
  }
}

/**
 * Turns the chunks of a byte stream into frames. Chunks are kept in a list and
 * joined only once a whole frame is there, so a 64 MiB frame arriving 64 KiB
 * at a time is copied once, not a thousand times.
 */
export class FrameDecoder {
  #chunks: Buffer[] = [];
  #size = 0;

  /** Bytes received that do not yet make a whole frame. */
  get buffered(): number {
    return this.#size;
  }

  /** The frames completed by this chunk; throws FrameError on a length out of range (carrying the frames before it). */
  push(chunk: Uint8Array): Frame[] {
    if (chunk.length > 0) {
      this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.#size += chunk.length;
    }
    const frames: Frame[] = [];
    while (this.#size >= 4) {
      const length = this.#peekLength();
      if (length < HEADER_LENGTH || length > MAX_FRAME_LENGTH) {
        const error = new FrameError(`frame length ${length} out of range (${HEADER_LENGTH}..${MAX_FRAME_LENGTH})`);
        error.frames = frames;
        throw error;
      }
      if (this.#size < 4 + length) break;
      const all = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#size);
      frames.push({ version: all[4] as number, type: all[5] as number, id: all.readUInt32BE(6), body: all.subarray(10, 4 + length) });
      const rest = all.subarray(4 + length);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#size = rest.length;
    }
    return frames;
  }

  /** Call at end of stream: throws FrameError when it cut a frame short. */
  end(): void {
    if (this.#size > 0) throw new FrameError(`stream ended inside a frame (${this.#size} bytes of it received)`);
  }

  #peekLength(): number {
    const first = this.#chunks[0] as Buffer;
    return first.length >= 4 ? first.readUInt32BE(0) : Buffer.concat(this.#chunks, this.#size).readUInt32BE(0);
  }
}
