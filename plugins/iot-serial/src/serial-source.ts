import { SerialPort } from 'serialport';
import { LineDecoder, parseLine } from './line-framing.js';
import { buildReadRequest, parseReadResponse, type ReadRequest, type RegisterFunction } from './modbus-rtu.js';
import { decodeRegisters, validateMapping, type MetricValue, type RegisterMapping } from './register-map.js';

export interface ModbusBlock {
  deviceId: string;
  slave: number;
  /** 3 = holding registers (default), 4 = input registers. */
  function?: RegisterFunction;
  address: number;
  count: number;
  registers: RegisterMapping[];
}

export interface SerialSourceConfig {
  path: string;
  baudRate: number;
  framing: 'json-lines' | 'kv-lines' | 'modbus-rtu';
  /** Line framings: the device id when a line carries none. */
  deviceId?: string;
  modbus?: { pollIntervalMs: number; responseTimeoutMs: number; blocks: ModbusBlock[] };
  reconnect?: { initialMs: number; maxMs: number };
}

export interface SerialReading {
  deviceId: string;
  metrics: Record<string, MetricValue | boolean>;
  at: Date;
}

export interface SerialCounters {
  readings: number;
  malformed: number;
  badCrc: number;
  timeouts: number;
  overflows: number;
  exceptions: number;
  reconnects: number;
  opens: number;
}

export type LinkState = 'connecting' | 'open' | 'waiting' | 'stopped';

/**
 * Reads a serial line (a real port or a pty) and turns frames into readings. Malformed
 * input, CRC failures and timeouts are counted and skipped: they never throw and never
 * become readings. When the port disappears it is reopened with exponential backoff.
 */
export class SerialSource {
  readonly counters: SerialCounters = { readings: 0, malformed: 0, badCrc: 0, timeouts: 0, overflows: 0, exceptions: 0, reconnects: 0, opens: 0 };
  state: LinkState = 'stopped';
  lastError: string | null = null;
  private port?: SerialPort;
  private retryTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private delay: number;
  private stopped = true;
  private pending?: {
    request: ReadRequest;
    buffer: Buffer;
    resolve: (outcome: ReturnType<typeof parseReadResponse> | { kind: 'timeout' }) => void;
    timer: NodeJS.Timeout;
  };

  constructor(
    private readonly config: SerialSourceConfig,
    private readonly emit: (reading: SerialReading) => void,
  ) {
    this.delay = config.reconnect?.initialMs ?? 200;
    const problems = SerialSource.validate(config);
    if (problems.length) throw new Error(`invalid serial configuration: ${problems.join('; ')}`);
  }

  static validate(config: SerialSourceConfig): string[] {
    const problems: string[] = [];
    if (!config.path || typeof config.path !== 'string') problems.push('path is required');
    if (![1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400].includes(config.baudRate)) problems.push('baudRate is not a standard rate');
    if (config.framing === 'modbus-rtu') {
      if (!config.modbus?.blocks?.length) problems.push('modbus.blocks must list at least one register block');
      for (const [index, block] of (config.modbus?.blocks ?? []).entries()) {
        problems.push(...validateMapping(block.registers, block.count).map((problem) => `blocks[${index}].${problem}`));
      }
    } else if (!['json-lines', 'kv-lines'].includes(config.framing)) problems.push('framing must be json-lines, kv-lines or modbus-rtu');
    return problems;
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'stopped';
    clearTimeout(this.retryTimer);
    clearTimeout(this.pollTimer);
    this.settlePending({ kind: 'timeout' });
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private open(): void {
    if (this.stopped) return;
    this.state = 'connecting';
    const port = new SerialPort({ path: this.config.path, baudRate: this.config.baudRate, autoOpen: false });
    this.port = port;
    port.open((error) => {
      if (error) {
        this.lastError = error.message;
        this.scheduleReopen();
        return;
      }
      this.counters.opens++;
      if (this.counters.opens > 1) this.counters.reconnects++;
      this.delay = this.config.reconnect?.initialMs ?? 200;
      this.state = 'open';
      this.lastError = null;
      this.attach(port);
    });
  }

  private scheduleReopen(): void {
    if (this.stopped) return;
    this.state = 'waiting';
    clearTimeout(this.pollTimer);
    this.settlePending({ kind: 'timeout' });
    this.retryTimer = setTimeout(() => this.open(), this.delay);
    this.delay = Math.min(this.delay * 2, this.config.reconnect?.maxMs ?? 10_000);
  }

  private attach(port: SerialPort): void {
    const onGone = (error?: Error | null) => {
      if (this.port !== port) return;
      this.port = undefined;
      if (error) this.lastError = error.message;
      port.removeAllListeners('data');
      this.scheduleReopen();
    };
    port.once('close', onGone);
    port.on('error', (error) => {
      this.lastError = error.message;
      if (!port.isOpen) onGone(error);
    });
    if (this.config.framing === 'modbus-rtu') {
      port.on('data', (chunk: Buffer) => this.onModbusData(chunk));
      void this.pollLoop(port);
      return;
    }
    const format = this.config.framing === 'json-lines' ? 'json' : 'kv';
    const decoder = new LineDecoder(
      (line) => {
        const parsed = parseLine(line, format);
        const deviceId = parsed?.deviceId ?? this.config.deviceId;
        if (!parsed || !deviceId) {
          this.counters.malformed++;
          return;
        }
        this.counters.readings++;
        this.emit({ deviceId, metrics: parsed.metrics, at: new Date() });
      },
      () => this.counters.overflows++,
    );
    port.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch {
        this.counters.malformed++;
      }
    });
  }

  private onModbusData(chunk: Buffer): void {
    const pending = this.pending;
    if (!pending) {
      // Bytes nobody asked for: line noise.
      this.counters.malformed++;
      return;
    }
    pending.buffer = Buffer.concat([pending.buffer, chunk]).subarray(0, 512);
    const outcome = parseReadResponse(pending.request, pending.buffer);
    if (outcome.kind !== 'incomplete') this.settlePending(outcome);
  }

  private settlePending(outcome: ReturnType<typeof parseReadResponse> | { kind: 'timeout' }): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    pending.resolve(outcome);
  }

  private async pollLoop(port: SerialPort): Promise<void> {
    const modbus = this.config.modbus!;
    while (!this.stopped && this.port === port && port.isOpen) {
      for (const block of modbus.blocks) {
        if (this.stopped || this.port !== port) return;
        const request: ReadRequest = { slave: block.slave, fn: block.function ?? 3, address: block.address, count: block.count };
        const outcome = await new Promise<ReturnType<typeof parseReadResponse> | { kind: 'timeout' }>((resolve) => {
          const timer = setTimeout(() => this.settlePending({ kind: 'timeout' }), modbus.responseTimeoutMs);
          this.pending = { request, buffer: Buffer.alloc(0), resolve, timer };
          port.write(buildReadRequest(request), (error) => {
            if (error) this.settlePending({ kind: 'timeout' });
          });
        });
        switch (outcome.kind) {
          case 'ok':
            this.counters.readings++;
            this.emit({ deviceId: block.deviceId, metrics: decodeRegisters(outcome.registers, block.registers), at: new Date() });
            break;
          case 'bad_crc':
            this.counters.badCrc++;
            break;
          case 'malformed':
          case 'incomplete':
            this.counters.malformed++;
            break;
          case 'exception':
            this.counters.exceptions++;
            break;
          case 'timeout':
            this.counters.timeouts++;
            break;
        }
        // Let a late or noisy tail drain before the next request.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await new Promise<void>((resolve) => {
        this.pollTimer = setTimeout(resolve, modbus.pollIntervalMs);
      });
    }
  }
}
