// dns-packet ships no types and @types/dns-packet is not installed: this
// declares the part of its API that the sandbox resolver and its tests use.
declare module 'dns-packet' {
  interface Question {
    name: string;
    type: string;
    class?: string;
  }
  interface Answer {
    name: string;
    type: string;
    class?: string;
    ttl?: number;
    data: unknown;
  }
  interface Packet {
    id?: number;
    type?: 'query' | 'response';
    flags?: number;
    rcode?: string;
    opcode?: string;
    questions?: Question[];
    answers?: Answer[];
    authorities?: Answer[];
    additionals?: Answer[];
  }
  export const AUTHORITATIVE_ANSWER: number;
  export const TRUNCATED_RESPONSE: number;
  export const RECURSION_DESIRED: number;
  export const RECURSION_AVAILABLE: number;
  export function encode(packet: Packet): Buffer;
  export function decode(buffer: Buffer): Packet;
}
