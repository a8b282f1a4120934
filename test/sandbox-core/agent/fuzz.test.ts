/**
 * Fuzzing the agent protocol (PROTOCOL.md) with fast-check: the host's decoder
 * (protocol.ts) in process, and both agents, native and Node, over their real
 * stdio pipes. One agent of each kind takes every frame the protocol says it
 * survives (a valid length around any version, type, id and body); each must
 * be answered once, as PROTOCOL.md says, the same by both agents, and no
 * malformed EXEC may run its command. A length out of range is fatal: ERROR
 * with id 0, exit 2. docs/reliability.md cites the case counts.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentCommand } from '../../../sandbox-core/agent/build.ts';
import { decodeFields, encodeFrame, Fields, FrameDecoder, FrameError, FieldError, MAX_FRAME_LENGTH, MessageType, Tag, type Frame } from '../../../sandbox-core/agent/protocol.ts';
import { FrameReader, KINDS, spawnAgent } from './agents.ts';

/** Fixed, so a failure reproduces: fast-check prints the seed and path of the case that failed. */
const SEED = 16_003;
const AGENT_FUZZ_CASES = 10_000;
/** Frames written at once; each is answered before the next batch. */
const BATCH = 50;

const scratch = mkdtempSync(join(tmpdir(), 'rigor-agent-fuzz-'));
const cacheDir = join(scratch, 'cache');
/** Written by the command every generated EXEC carries: it must never exist. */
const MARKER = join(scratch, 'ran');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Fields a generated request carries: never an argv or a path of the fuzzer's choosing, so nothing runs or is written. */
const SAFE_TAGS = [Tag.ENV, Tag.CWD, Tag.STDIN, Tag.DATA, Tag.LINE, Tag.MESSAGE, 0x00, 0x01, 0x7f, 0xee, 0xff];
const rawField = fc.tuple(fc.constantFrom(...SAFE_TAGS), fc.uint8Array({ maxLength: 40 })).map(([tag, value]) => {
  const head = Buffer.alloc(5);
  head[0] = tag;
  head.writeUInt32BE(value.length, 1);
  return Buffer.concat([head, value]);
});
const intField = (tag: number) =>
  fc.integer({ min: 0, max: 12 }).map((size) => {
    const head = Buffer.alloc(5);
    head[0] = tag;
    head.writeUInt32BE(size, 1);
    return Buffer.concat([head, Buffer.alloc(size)]);
  });
/** The command an EXEC carries: it would leave MARKER behind. */
const markerArgv = [`sh`, `-c`, `echo ran > ${MARKER}`].map((arg) => {
  const head = Buffer.alloc(5);
  head[0] = Tag.ARGV;
  head.writeUInt32BE(Buffer.byteLength(arg), 1);
  return Buffer.concat([head, Buffer.from(arg)]);
});

interface Case {
  version: number;
  type: number;
  body: Buffer;
}
// Never RESEED: an accepted one sets the clock of the machine the agent runs on, here the host's (snapshot.test.ts covers it in a guest).
const anyType = fc.oneof(fc.constantFrom(...Object.values(MessageType)), fc.integer({ min: 0, max: 255 })).filter((type) => type !== MessageType.RESEED);
const survivable: fc.Arbitrary<Case> = fc
  .record({
    version: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
    type: anyType,
    fields: fc.array(rawField, { maxLength: 4 }),
    int: fc.option(fc.tuple(fc.constantFrom(Tag.TIMEOUT_MS, Tag.MODE), fc.integer({ min: 0, max: 12 })), { nil: undefined }),
    // An EXEC of the marker command made malformed: a field that overruns the body, or a timeout that is not 8 bytes.
    malformedExec: fc.boolean(),
    overrun: fc.option(fc.tuple(fc.constantFrom(...SAFE_TAGS), fc.integer({ min: 1, max: 1_000 }), fc.uint8Array({ maxLength: 10 })), { nil: undefined }),
    junk: fc.option(fc.uint8Array({ minLength: 1, maxLength: 4 }), { nil: undefined }),
  })
  .chain(({ version, type, fields, int, malformedExec, overrun, junk }) =>
    (int ? intField(int[0]) : fc.constant(Buffer.alloc(0))).map((intBytes) => {
      const parts = [...fields, intBytes];
      if (malformedExec) {
        parts.unshift(...markerArgv);
        // Malformed for sure: a timeout of 3 bytes when no overrun is asked for.
        if (!overrun && !junk) parts.push(Buffer.from([Tag.TIMEOUT_MS, 0, 0, 0, 3, 0, 0, 1]));
      }
      if (overrun) {
        const [tag, claimed, value] = overrun;
        const head = Buffer.alloc(5);
        head[0] = tag;
        head.writeUInt32BE(value.length + claimed, 1);
        parts.push(head, Buffer.from(value));
      } else if (junk) parts.push(Buffer.from(junk)); // fewer than 5 bytes: not a whole field
      return { version, type: malformedExec ? MessageType.EXEC : type, body: Buffer.concat(parts) };
    }),
  );

/** What PROTOCOL.md says the answer to a survivable frame is: its type and, for an ERROR, the message. */
function expected(frame: Case): { type: number; message?: string } {
  if (frame.version !== 1) return { type: MessageType.ERROR, message: `unsupported protocol version ${frame.version}` };
  let fields: Fields;
  try {
    fields = new Fields(decodeFields(frame.body));
  } catch (error) {
    return { type: MessageType.ERROR, message: (error as FieldError).message };
  }
  const intError = (tag: number) => {
    const value = fields.bytes(tag);
    return value !== undefined && value.length !== 8 ? `field 0x${tag.toString(16)} is an integer of 8 bytes, found ${value.length}` : undefined;
  };
  switch (frame.type) {
    case MessageType.PING:
      return { type: MessageType.PONG };
    case MessageType.STATS:
      return { type: MessageType.STATS_RESULT };
    case MessageType.EXEC:
      if (fields.strings(Tag.ARGV).length === 0) return { type: MessageType.ERROR, message: 'exec: argv is empty' };
      return { type: MessageType.ERROR, message: intError(Tag.TIMEOUT_MS) ?? 'a well-formed EXEC: the generator makes none' };
    case MessageType.WRITE_FILE:
      return { type: MessageType.ERROR, message: 'write: no path' };
    case MessageType.READ_FILE:
      return { type: MessageType.ERROR, message: 'read: no path' };
    default:
      return { type: MessageType.ERROR, message: `unknown message type 0x${frame.type.toString(16).padStart(2, '0')}` };
  }
}

describe.each(KINDS)('the %s agent fuzzed over its stdio pipes', (kind) => {
  let command: string[];
  beforeAll(async () => {
    command = await agentCommand(kind, { cacheDir });
  });

  it(`answers ${AGENT_FUZZ_CASES} survivable frames once each, as PROTOCOL.md says, and runs no malformed EXEC`, async () => {
    const { child, exited } = spawnAgent(command);
    const reader = new FrameReader(child.stdout);
    expect((await reader.next()).type).toBe(MessageType.HELLO);
    let nextId = 1;
    await fc.assert(
      fc.asyncProperty(fc.array(survivable, { minLength: BATCH, maxLength: BATCH }), async (frames) => {
        const ids = frames.map(() => nextId++);
        const bytes = frames.map((frame, i) => {
          const head = Buffer.alloc(10);
          head.writeUInt32BE(6 + frame.body.length, 0);
          head[4] = frame.version;
          head[5] = frame.type;
          head.writeUInt32BE(ids[i]!, 6);
          return Buffer.concat([head, frame.body]);
        });
        child.stdin.write(Buffer.concat(bytes));
        const replies = new Map<number, Frame>();
        while (replies.size < frames.length) {
          const reply = await reader.next();
          expect(replies.has(reply.id), `a second reply to #${reply.id}`).toBe(false);
          replies.set(reply.id, reply);
        }
        for (const [i, frame] of frames.entries()) {
          const reply = replies.get(ids[i]!)!;
          const want = expected(frame);
          expect({ type: reply.type, message: want.message === undefined ? undefined : Fields.of(reply).string(Tag.MESSAGE) }, `frame ${bytes[i]!.toString('hex').slice(0, 200)}`).toEqual(want);
        }
      }),
      { seed: SEED, numRuns: AGENT_FUZZ_CASES / BATCH, endOnFailure: true },
    );
    expect(existsSync(MARKER)).toBe(false);
    // Still serving: a PING is answered, and end of stream ends it cleanly.
    child.stdin.write(encodeFrame(MessageType.PING, nextId));
    expect((await reader.next()).type).toBe(MessageType.PONG);
    child.stdin.end();
    expect(await exited).toBe(0);
  });

  it('treats a length out of range as fatal: ERROR with id 0, exit 2, nothing run; a declared 64 MiB frame is not read into memory', async () => {
    const lengths = [0, 1, 5, MAX_FRAME_LENGTH + 1, 0xffffffff];
    for (const length of lengths) {
      const { child, exited } = spawnAgent(command);
      const reader = new FrameReader(child.stdout);
      await reader.next();
      const head = Buffer.alloc(4);
      head.writeUInt32BE(length, 0);
      // The frames before it are answered; nothing after it is read.
      child.stdin.write(Buffer.concat([encodeFrame(MessageType.PING, 7), head, Buffer.concat(markerArgv)]));
      expect((await reader.next()).type).toBe(MessageType.PONG);
      const fatal = await reader.next();
      expect({ type: fatal.type, id: fatal.id, message: Fields.of(fatal).string(Tag.MESSAGE) }).toEqual({
        type: MessageType.ERROR,
        id: 0,
        message: `frame length ${length} out of range (6..${MAX_FRAME_LENGTH})`,
      });
      expect(await exited).toBe(2);
    }
    // The largest length allowed, with only a little of it sent: the agent waits for the rest, its memory does not hold it.
    const { child, exited } = spawnAgent(command);
    const reader = new FrameReader(child.stdout);
    await reader.next();
    const rssKib = async () => Number(/^VmRSS:\s+(\d+)/m.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
    child.stdin.write(encodeFrame(MessageType.PING, 1));
    await reader.next();
    const before = await rssKib();
    const head = Buffer.alloc(10);
    head.writeUInt32BE(MAX_FRAME_LENGTH, 0);
    head[4] = 1;
    head[5] = MessageType.PING;
    child.stdin.write(Buffer.concat([head, Buffer.alloc(1_000)]));
    // Read by the agent once the pipe is empty again: /proc/<pid>/fdinfo of our end would say so; a short wait does.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await rssKib()).toBeLessThan(before + 16 * 1024);
    child.stdin.end();
    expect(await exited).toBe(0);
    expect(existsSync(MARKER)).toBe(false);
  });
});

describe("the host's frame decoder fuzzed", () => {
  it(`turns any bytes in any chunks into frames or one FrameError, holding no more than it was given (${AGENT_FUZZ_CASES} cases)`, () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ type: fc.integer({ min: 0, max: 255 }), id: fc.nat(), body: fc.uint8Array({ maxLength: 100 }) }).map(({ type, id, body }) => {
              const frame = encodeFrame(type, id);
              frame.writeUInt32BE(6 + body.length, 0);
              return Buffer.concat([frame, body]);
            }),
            fc.uint8Array({ maxLength: 30 }).map((bytes) => Buffer.from(bytes)),
          ),
          { maxLength: 6 },
        ),
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 10 }),
        (parts, cuts) => {
          const stream = Buffer.concat(parts);
          const decoder = new FrameDecoder();
          const frames: Frame[] = [];
          let failed: unknown;
          for (let at = 0, i = 0; at < stream.length && failed === undefined; i++) {
            const size = cuts[i % cuts.length]!;
            try {
              frames.push(...decoder.push(stream.subarray(at, at + size)));
            } catch (error) {
              failed = error;
            }
            at += size;
            expect(decoder.buffered).toBeLessThanOrEqual(Math.min(at, stream.length));
          }
          if (failed !== undefined) expect(failed).toBeInstanceOf(FrameError);
          // What was decoded is the stream's own bytes, frame after frame from the start.
          let offset = 0;
          for (const frame of frames) {
            const length = stream.readUInt32BE(offset);
            expect(frame.body.equals(stream.subarray(offset + 10, offset + 4 + length))).toBe(true);
            offset += 4 + length;
            // A body's fields decode or throw FieldError, nothing else.
            try {
              decodeFields(frame.body);
            } catch (error) {
              expect(error).toBeInstanceOf(FieldError);
            }
          }
        },
      ),
      { seed: SEED, numRuns: AGENT_FUZZ_CASES },
    );
  });
});
