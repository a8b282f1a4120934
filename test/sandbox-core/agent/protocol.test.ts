import { describe, expect, it } from 'vitest';
import {
  decodeFields,
  encodeFrame,
  field,
  Fields,
  FrameDecoder,
  FrameError,
  MAX_FRAME_LENGTH,
  MessageType,
  Tag,
} from '../../../sandbox-core/agent/protocol.ts';

const exec = encodeFrame(MessageType.EXEC, 7, [
  field.string(Tag.ARGV, 'echo'),
  field.string(Tag.ARGV, 'héllo'),
  field.bytes(Tag.STDIN, Buffer.from([0, 255, 10])),
  field.int(Tag.TIMEOUT_MS, 1500),
]);

describe('frames', () => {
  it('encode as length, version, type, id and tagged fields, big-endian', () => {
    const ping = encodeFrame(MessageType.PING, 0x01020304);
    expect([...ping]).toEqual([0, 0, 0, 6, 1, 0x02, 1, 2, 3, 4]);
    const body = encodeFrame(MessageType.READ_FILE, 1, [field.string(Tag.PATH, 'ab')]).subarray(10);
    expect([...body]).toEqual([0x50, 0, 0, 0, 2, 0x61, 0x62]);
  });

  it('round trip through the decoder, fed whole or a byte at a time', () => {
    const whole = new FrameDecoder().push(Buffer.concat([exec, exec]));
    expect(whole).toHaveLength(2);
    const decoder = new FrameDecoder();
    const frames = [...exec].flatMap((byte) => decoder.push(Buffer.from([byte])));
    expect(frames).toHaveLength(1);
    expect(decoder.buffered).toBe(0);
    const [frame] = frames;
    expect(frame).toMatchObject({ version: 1, type: MessageType.EXEC, id: 7 });
    const fields = Fields.of(frame!);
    expect(fields.strings(Tag.ARGV)).toEqual(['echo', 'héllo']);
    expect([...fields.bytes(Tag.STDIN)!]).toEqual([0, 255, 10]);
    expect(fields.int(Tag.TIMEOUT_MS)).toBe(1500);
    expect(fields.string(Tag.CWD)).toBeUndefined();
  });

  it('keep a partial frame until the rest arrives, and say so at end of stream', () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(exec.subarray(0, 13))).toEqual([]);
    expect(() => decoder.end()).toThrow('stream ended inside a frame (13 bytes of it received)');
    expect(decoder.push(exec.subarray(13))).toHaveLength(1);
    expect(() => decoder.end()).not.toThrow();
  });

  it('reject a length above the maximum or below the header', () => {
    const oversize = Buffer.alloc(10);
    oversize.writeUInt32BE(MAX_FRAME_LENGTH + 1, 0);
    expect(() => new FrameDecoder().push(oversize)).toThrow(`frame length ${MAX_FRAME_LENGTH + 1} out of range (6..${MAX_FRAME_LENGTH})`);
    expect(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 5, 1]))).toThrow('frame length 5 out of range');
  });

  it('hand over the frames a chunk completed before a bad length with the error (found by fuzz.test.ts: the Node agent dropped a PING the native one answered)', () => {
    const bad = Buffer.from([0, 0, 0, 1]);
    const error = (() => {
      try {
        new FrameDecoder().push(Buffer.concat([exec, bad]));
      } catch (thrown) {
        return thrown as FrameError;
      }
    })();
    expect(error).toBeInstanceOf(FrameError);
    expect(error!.frames.map((frame) => frame.id)).toEqual([7]);
  });

  it('refuse to encode a frame longer than the maximum', () => {
    const big = field.bytes(Tag.DATA, Buffer.alloc(MAX_FRAME_LENGTH));
    expect(() => encodeFrame(MessageType.WRITE_FILE, 1, [big])).toThrow(/would be \d+ bytes long, more than the protocol's 67174400/);
  });

  it('carry negative integers as 8-byte two complement', () => {
    const [frame] = new FrameDecoder().push(encodeFrame(MessageType.EXEC_RESULT, 1, [field.int(Tag.EXIT_CODE, -1)]));
    expect(Fields.of(frame!).int(Tag.EXIT_CODE)).toBe(-1);
  });
});

describe('fields', () => {
  it('skip tags the reader does not know and take the last of a repeated scalar', () => {
    const body = encodeFrame(MessageType.READ_FILE, 1, [
      field.string(0xee, 'from a newer host'),
      field.string(Tag.PATH, '/a'),
      field.string(Tag.PATH, '/b'),
    ]).subarray(10);
    const fields = new Fields(decodeFields(body));
    expect(fields.string(Tag.PATH)).toBe('/b');
    expect(fields.list.map((f) => f.tag)).toEqual([0xee, Tag.PATH, Tag.PATH]);
  });

  it('reject a field that overruns the body, naming its offset', () => {
    const body = encodeFrame(MessageType.READ_FILE, 1, [field.string(Tag.PATH, '/a'), field.string(Tag.PATH, 'abcdef')]).subarray(10);
    expect(() => decodeFields(body.subarray(0, body.length - 1))).toThrow('malformed field at offset 7');
    expect(() => decodeFields(Buffer.from([0x50, 0, 0]))).toThrow('malformed field at offset 0');
  });

  it('reject an integer that is not 8 bytes', () => {
    const fields = new Fields([{ tag: Tag.MODE, value: Buffer.from([1, 2, 3]) }]);
    expect(() => fields.int(Tag.MODE)).toThrow('field 0x52 is an integer of 8 bytes, found 3');
  });
});
