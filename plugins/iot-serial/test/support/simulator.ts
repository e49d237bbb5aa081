import { SerialPort } from 'serialport';
import { buildReadResponse } from '../../src/modbus-rtu.js';

/** The device end of the pty: writes line frames, or answers Modbus RTU reads from a register table. */
export class DeviceSimulator {
  private port?: SerialPort;
  registers = new Map<number, number>();
  /** What to send back instead of a proper reply: 'ok' | 'bad-crc' | 'truncated' | 'silent' | 'garbage'. */
  mode: 'ok' | 'bad-crc' | 'truncated' | 'silent' | 'garbage' = 'ok';
  requests = 0;

  constructor(private readonly path: string) {}

  async open(slave = 1): Promise<void> {
    this.port = new SerialPort({ path: this.path, baudRate: 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => this.port!.open((error) => (error ? reject(error) : resolve())));
    let buffer = Buffer.alloc(0);
    this.port.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 8) {
        const frame = buffer.subarray(0, 8);
        buffer = buffer.subarray(8);
        const address = frame.readUInt16BE(2);
        const count = frame.readUInt16BE(4);
        const fn = frame[1] as 3 | 4;
        if (frame[0] !== slave) continue;
        this.requests++;
        const values = Array.from({ length: count }, (_, index) => this.registers.get(address + index) ?? 0);
        const reply = buildReadResponse(slave, fn, values);
        if (this.mode === 'ok') this.port!.write(reply);
        else if (this.mode === 'bad-crc') this.port!.write(Buffer.concat([reply.subarray(0, -1), Buffer.from([reply.at(-1)! ^ 0xff])]));
        else if (this.mode === 'truncated') this.port!.write(reply.subarray(0, reply.length - 3));
        else if (this.mode === 'garbage') this.port!.write(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x13, 0x37]));
      }
    });
  }

  write(text: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.port!.write(text, (error) => (error ? reject(error) : this.port!.drain(() => resolve()))));
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
