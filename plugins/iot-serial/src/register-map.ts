export type RegisterType = 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'code';

export interface RegisterMapping {
  /** Metric name produced, e.g. `temperature`. */
  metric: string;
  /** Offset within the block read (0 = the block's first register). */
  offset: number;
  type: RegisterType;
  /** Multiplied after decoding, e.g. 0.1 for tenths of a degree. */
  scale?: number;
  add?: number;
  /** For 32-bit values: 'big' (high word first, default) or 'little'. */
  wordOrder?: 'big' | 'little';
  /** For `code`: the register value that means "no fault" (default 0). */
  okValue?: number;
}

export type MetricValue = number | string;

const width = (type: RegisterType) => (type === 'uint32' || type === 'int32' || type === 'float32' ? 2 : 1);

export function validateMapping(mappings: RegisterMapping[], count: number): string[] {
  const problems: string[] = [];
  for (const [index, mapping] of mappings.entries()) {
    if (!/^[A-Za-z0-9_.:/-]{1,120}$/.test(mapping.metric)) problems.push(`registers[${index}].metric is not a valid metric name`);
    if (!Number.isInteger(mapping.offset) || mapping.offset < 0 || mapping.offset + width(mapping.type) > count)
      problems.push(`registers[${index}] does not fit in the ${count} registers read`);
  }
  return problems;
}

/** Turns raw registers into metrics. Fault-code registers become the string code (or "0"). */
export function decodeRegisters(registers: number[], mappings: RegisterMapping[]): Record<string, MetricValue> {
  const result: Record<string, MetricValue> = {};
  for (const mapping of mappings) {
    const first = registers[mapping.offset]!;
    const second = registers[mapping.offset + 1] ?? 0;
    const [high, low] = mapping.wordOrder === 'little' ? [second, first] : [first, second];
    let value: number;
    switch (mapping.type) {
      case 'uint16':
        value = first;
        break;
      case 'int16':
        value = first >= 0x8000 ? first - 0x10000 : first;
        break;
      case 'uint32':
        value = high * 0x10000 + low;
        break;
      case 'int32': {
        const raw = high * 0x10000 + low;
        value = raw >= 0x80000000 ? raw - 0x100000000 : raw;
        break;
      }
      case 'float32': {
        const buffer = Buffer.alloc(4);
        buffer.writeUInt16BE(high, 0);
        buffer.writeUInt16BE(low, 2);
        value = buffer.readFloatBE(0);
        break;
      }
      case 'code':
        result[mapping.metric] = first === (mapping.okValue ?? 0) ? '0' : `E${first}`;
        continue;
    }
    const scaled = value * (mapping.scale ?? 1) + (mapping.add ?? 0);
    result[mapping.metric] = Math.round(scaled * 1e6) / 1e6;
  }
  return result;
}
