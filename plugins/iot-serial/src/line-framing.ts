import type { MetricValue } from './register-map.js';

export interface LineReading {
  deviceId?: string;
  metrics: Record<string, MetricValue | boolean>;
}

const METRIC = /^[A-Za-z0-9_.:/-]{1,120}$/;

/** Splits a byte stream into lines; an over-long line is dropped (and reported) rather than buffered forever. */
export class LineDecoder {
  private buffer = '';
  private discarding = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: () => void,
    private readonly maxLength = 4096,
  ) {}

  push(chunk: Buffer | string): void {
    this.buffer += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let newline: number;
    while ((newline = this.buffer.search(/\r?\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + (this.buffer[newline] === '\r' ? 2 : 1));
      if (this.discarding) {
        this.discarding = false;
        continue;
      }
      if (line.trim()) this.onLine(line.trim());
    }
    if (this.buffer.length > this.maxLength) {
      this.buffer = '';
      if (!this.discarding) this.onOverflow();
      this.discarding = true;
    }
  }
}

/**
 * Parses one line in the configured format. Returns null for anything malformed: callers
 * count it and move on.
 *   json: {"deviceId":"pump-1","temperature":21.5,"fault":"E12"}
 *   kv:   deviceId=pump-1 temperature=21.5 fault=E12
 */
export function parseLine(line: string, format: 'json' | 'kv'): LineReading | null {
  let fields: Record<string, unknown>;
  if (format === 'json') {
    try {
      const parsed = JSON.parse(line) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
      fields = parsed as Record<string, unknown>;
    } catch {
      return null;
    }
  } else {
    fields = {};
    for (const pair of line.split(/[\s,;]+/).filter(Boolean)) {
      const match = /^([^=]+)=(.*)$/.exec(pair);
      if (!match) return null;
      const raw = match[2]!;
      fields[match[1]!] = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(raw) ? Number(raw) : raw === 'true' ? true : raw === 'false' ? false : raw;
    }
  }
  const reading: LineReading = { metrics: {} };
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'deviceId') {
      if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) return null;
      reading.deviceId = value;
      continue;
    }
    if (!METRIC.test(key)) return null;
    if (typeof value === 'number' && Number.isFinite(value)) reading.metrics[key] = value;
    else if (typeof value === 'string' && value.length <= 500) reading.metrics[key] = value;
    else if (typeof value === 'boolean') reading.metrics[key] = value;
    else return null;
  }
  return Object.keys(reading.metrics).length ? reading : null;
}
