import { hasValidCrc, withCrc } from './crc16.js';

export type RegisterFunction = 3 | 4; // read holding registers | read input registers

export interface ReadRequest {
  slave: number;
  fn: RegisterFunction;
  address: number;
  count: number;
}

export type ResponseOutcome =
  | { kind: 'ok'; registers: number[] }
  | { kind: 'exception'; code: number }
  | { kind: 'incomplete' }
  | { kind: 'bad_crc' }
  | { kind: 'malformed'; reason: string };

export function buildReadRequest(request: ReadRequest): Buffer {
  if (!Number.isInteger(request.slave) || request.slave < 1 || request.slave > 247) throw new RangeError('slave must be 1–247');
  if (!Number.isInteger(request.address) || request.address < 0 || request.address > 0xffff) throw new RangeError('address must be 0–65535');
  if (!Number.isInteger(request.count) || request.count < 1 || request.count > 125) throw new RangeError('count must be 1–125');
  const body = Buffer.alloc(6);
  body.writeUInt8(request.slave, 0);
  body.writeUInt8(request.fn, 1);
  body.writeUInt16BE(request.address, 2);
  body.writeUInt16BE(request.count, 4);
  return withCrc(body);
}

/** Length a response to `request` will have, when it is a normal (non-exception) reply. */
export const expectedLength = (request: ReadRequest) => 5 + request.count * 2;

/**
 * Interprets bytes received after `request`. Returns `incomplete` while more bytes may still
 * come; anything else is final for this request.
 */
export function parseReadResponse(request: ReadRequest, frame: Buffer): ResponseOutcome {
  if (frame.length < 2) return { kind: 'incomplete' };
  if (frame[0] !== request.slave) return { kind: 'malformed', reason: `unexpected slave ${frame[0]}` };
  const fn = frame[1]!;
  if (fn === (request.fn | 0x80)) {
    if (frame.length < 5) return { kind: 'incomplete' };
    if (!hasValidCrc(frame.subarray(0, 5))) return { kind: 'bad_crc' };
    return { kind: 'exception', code: frame[2]! };
  }
  if (fn !== request.fn) return { kind: 'malformed', reason: `unexpected function ${fn}` };
  if (frame.length < 3) return { kind: 'incomplete' };
  const byteCount = frame[2]!;
  if (byteCount !== request.count * 2) return { kind: 'malformed', reason: `byte count ${byteCount}, expected ${request.count * 2}` };
  const length = expectedLength(request);
  if (frame.length < length) return { kind: 'incomplete' };
  if (frame.length > length) return { kind: 'malformed', reason: `trailing bytes (${frame.length - length})` };
  if (!hasValidCrc(frame)) return { kind: 'bad_crc' };
  const registers: number[] = [];
  for (let index = 0; index < request.count; index++) registers.push(frame.readUInt16BE(3 + index * 2));
  return { kind: 'ok', registers };
}

/** Builds a normal response frame (used by simulators and tests). */
export function buildReadResponse(slave: number, fn: RegisterFunction, registers: number[]): Buffer {
  const body = Buffer.alloc(3 + registers.length * 2);
  body.writeUInt8(slave, 0);
  body.writeUInt8(fn, 1);
  body.writeUInt8(registers.length * 2, 2);
  registers.forEach((value, index) => body.writeUInt16BE(value & 0xffff, 3 + index * 2));
  return withCrc(body);
}
