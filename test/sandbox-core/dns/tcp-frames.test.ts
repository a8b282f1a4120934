import { describe, expect, it } from 'vitest';
import { DnsFrameReader, frameDnsMessage } from '../../../sandbox-core/dns/tcp-frames.ts';

describe('DnsFrameReader', () => {
  it('splits several messages in one chunk and one message across chunks', () => {
    const one = Buffer.from('first');
    const two = Buffer.from('second message');
    const stream = Buffer.concat([frameDnsMessage(one), frameDnsMessage(two), frameDnsMessage(Buffer.alloc(0))]);
    const reader = new DnsFrameReader();
    expect(reader.push(stream.subarray(0, 1))).toEqual([]);
    expect(reader.push(stream.subarray(1, 10))).toEqual([one]);
    expect(reader.push(stream.subarray(10, 12))).toEqual([]);
    expect(reader.push(stream.subarray(12))).toEqual([two, Buffer.alloc(0)]);
    expect(reader.push(Buffer.alloc(0))).toEqual([]);
  });

  it('prefixes a message with its length, big-endian', () => {
    expect([...frameDnsMessage(Buffer.alloc(258, 7)).subarray(0, 3)]).toEqual([1, 2, 7]);
  });
});
