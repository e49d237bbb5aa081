import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import { crc16, hasValidCrc, withCrc } from '../src/crc16.js';
import { buildReadRequest, buildReadResponse, parseReadResponse } from '../src/modbus-rtu.js';
import { decodeRegisters } from '../src/register-map.js';
import { LineDecoder, parseLine } from '../src/line-framing.js';

describe('Modbus CRC-16', () => {
  it('matches published vectors', () => {
    // Modbus over Serial Line spec, and the widely published "01 03 00 00 00 0A" → C5 CD example.
    expect(withCrc(Buffer.from([0x01, 0x03, 0x00, 0x00, 0x00, 0x0a])).toString('hex')).toBe('01030000000ac5cd');
    expect(withCrc(Buffer.from([0x01, 0x03, 0x00, 0x00, 0x00, 0x01])).toString('hex')).toBe('010300000001840a');
    expect(withCrc(Buffer.from([0x11, 0x03, 0x00, 0x6b, 0x00, 0x03])).toString('hex')).toBe('1103006b00037687');
    // CRC-16/MODBUS check value for "123456789".
    expect(crc16(Buffer.from('123456789', 'ascii'))).toBe(0x4b37);
  });

  it('agrees with the modbus-serial library', () => {
    const require = createRequire(import.meta.url);
    const libraryCrc = require('modbus-serial/utils/crc16') as (buffer: Buffer) => number;
    for (let length = 1; length < 64; length++) {
      const data = Buffer.from(Array.from({ length }, (_, index) => (index * 37 + length) & 0xff));
      expect(crc16(data)).toBe(libraryCrc(data));
    }
  });

  it('detects a flipped bit', () => {
    const frame = withCrc(Buffer.from([1, 3, 2, 0, 42]));
    expect(hasValidCrc(frame)).toBe(true);
    frame[3] ^= 0x01;
    expect(hasValidCrc(frame)).toBe(false);
  });
});

describe('Modbus RTU read', () => {
  const request = { slave: 7, fn: 3 as const, address: 100, count: 3 };

  it('builds requests and parses responses', () => {
    expect(buildReadRequest(request).subarray(0, 6).toString('hex')).toBe('070300640003');
    const response = buildReadResponse(7, 3, [215, 0xffff, 3]);
    expect(parseReadResponse(request, response)).toEqual({ kind: 'ok', registers: [215, 65535, 3] });
  });

  it('classifies incomplete, corrupt and foreign frames', () => {
    const response = buildReadResponse(7, 3, [1, 2, 3]);
    expect(parseReadResponse(request, response.subarray(0, 6))).toEqual({ kind: 'incomplete' });
    const corrupt = Buffer.from(response);
    corrupt[4] ^= 0xff;
    expect(parseReadResponse(request, corrupt)).toEqual({ kind: 'bad_crc' });
    expect(parseReadResponse(request, buildReadResponse(8, 3, [1, 2, 3])).kind).toBe('malformed');
    expect(parseReadResponse(request, buildReadResponse(7, 3, [1, 2])).kind).toBe('malformed');
    expect(parseReadResponse(request, withCrc(Buffer.from([7, 0x83, 2])))).toEqual({ kind: 'exception', code: 2 });
  });

  it('decodes register maps', () => {
    const float = Buffer.alloc(4);
    float.writeFloatBE(21.5);
    const registers = [215, 0xfffe, float.readUInt16BE(0), float.readUInt16BE(2), 12, 0];
    expect(
      decodeRegisters(registers, [
        { metric: 'temperature', offset: 0, type: 'uint16', scale: 0.1 },
        { metric: 'delta', offset: 1, type: 'int16' },
        { metric: 'flow', offset: 2, type: 'float32' },
        { metric: 'fault_code', offset: 4, type: 'code' },
        { metric: 'alarm', offset: 5, type: 'code' },
      ]),
    ).toEqual({ temperature: 21.5, delta: -2, flow: 21.5, fault_code: 'E12', alarm: '0' });
  });
});

describe('line framing', () => {
  it('parses JSON and key=value lines, refusing malformed ones', () => {
    expect(parseLine('{"deviceId":"pump-1","temperature":21.5,"fault":"E12"}', 'json')).toEqual({
      deviceId: 'pump-1',
      metrics: { temperature: 21.5, fault: 'E12' },
    });
    expect(parseLine('deviceId=pump-1 temperature=21.5 running=true', 'kv')).toEqual({ deviceId: 'pump-1', metrics: { temperature: 21.5, running: true } });
    for (const bad of ['{"temperature":', '[1,2]', '{"bad key":1}', '{"t":{"nested":1}}', '{}']) expect(parseLine(bad, 'json')).toBeNull();
    for (const bad of ['temperature', '=5', 'x=1 junk']) expect(parseLine(bad, 'kv')).toBeNull();
  });

  it('splits lines across chunks and drops over-long lines', () => {
    const lines: string[] = [];
    let overflows = 0;
    const decoder = new LineDecoder(
      (line) => lines.push(line),
      () => overflows++,
      32,
    );
    decoder.push('a=1\r\nb=');
    decoder.push('2\n');
    decoder.push('x'.repeat(40));
    decoder.push('still the long line\nc=3\n');
    expect(lines).toEqual(['a=1', 'b=2', 'c=3']);
    expect(overflows).toBe(1);
  });
});
