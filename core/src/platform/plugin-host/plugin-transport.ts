import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { Bus, Closable } from '../bus/bus.port.js';
import type { Frame } from './runtime/rpc.js';

/** How the host reaches one running plugin instance. */
export interface HostTransport {
  readonly kind: 'worker' | 'process' | 'nats';
  send(frame: Frame): void;
  onFrame(handler: (frame: Frame) => void): void;
  /** Called once when the runtime is gone, with a reason for admins. */
  onExit(handler: (reason: string) => void): void;
  /** Hard stop: terminates the thread or SIGKILLs the process. Safe to call twice. */
  kill(): Promise<void>;
}

export interface TransportOptions {
  runtimeFile: string;
  pluginId: string;
  instanceId: string;
  /** Heap limit of the plugin's thread or process. */
  maxHeapMb: number;
}

export interface NatsTransportOptions extends TransportOptions {
  bus: Bus;
  natsUrl: string;
  natsUser: string;
  natsPassword: string;
}

/** The environment a plugin sees: never the core's database URL, keys or NATS credentials. */
function pluginEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'TZ', 'LANG', 'NODE_ENV', 'HOME', 'TMPDIR']) if (process.env[key]) env[key] = process.env[key]!;
  return { ...env, ...extra };
}

class Tail {
  private text = '';
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-2000);
  }
  get value(): string {
    return this.text.trim().split('\n').slice(-5).join(' | ').slice(-600);
  }
}

abstract class BaseTransport implements Pick<HostTransport, 'onFrame' | 'onExit'> {
  protected frameHandler?: (frame: Frame) => void;
  private exitHandler?: (reason: string) => void;
  private exited = false;

  onFrame(handler: (frame: Frame) => void): void {
    this.frameHandler = handler;
  }
  onExit(handler: (reason: string) => void): void {
    this.exitHandler = handler;
  }
  protected exit(reason: string): void {
    if (this.exited) return;
    this.exited = true;
    this.exitHandler?.(reason);
  }
  protected get isExited(): boolean {
    return this.exited;
  }
}

/** A worker thread: cheap, killable (`terminate()` stops even a busy loop), heap-limited. */
export class WorkerTransport extends BaseTransport implements HostTransport {
  readonly kind = 'worker' as const;
  private readonly worker: Worker;
  private lastError?: string;

  constructor(options: TransportOptions) {
    super();
    this.worker = new Worker(options.runtimeFile, {
      env: pluginEnv({ SB_PLUGIN_ID: options.pluginId, SB_PLUGIN_INSTANCE: options.instanceId }),
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb },
      name: `plugin:${options.instanceId}`,
      stdout: false,
      stderr: false,
    });
    this.worker.on('message', (frame: Frame) => this.frameHandler?.(frame));
    this.worker.on('error', (error) => {
      this.lastError = error.message;
    });
    this.worker.on('exit', (code) => this.exit(this.lastError ? `crashed: ${this.lastError}` : `exited with code ${code}`));
  }

  send(frame: Frame): void {
    if (!this.isExited) this.worker.postMessage(frame);
  }

  async kill(): Promise<void> {
    await this.worker.terminate().catch(() => undefined);
  }
}

abstract class ChildTransport extends BaseTransport {
  protected child!: ChildProcess;
  protected readonly stderr = new Tail();

  protected watch(child: ChildProcess): void {
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => this.stderr.push(chunk));
    child.stdout?.on('data', () => undefined);
    child.on('error', (error) => this.exit(`could not start: ${error.message}`));
    child.on('exit', (code, signal) => {
      const tail = this.stderr.value;
      this.exit(`${signal ? `killed by ${signal}` : `exited with code ${code}`}${tail ? `: ${tail}` : ''}`);
    });
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5000))]);
  }
}

/** A child process over Node's IPC channel (own process, no NATS needed). */
export class ProcessTransport extends ChildTransport implements HostTransport {
  readonly kind = 'process' as const;

  constructor(options: TransportOptions) {
    super();
    this.watch(
      fork(options.runtimeFile, [], {
        env: pluginEnv({ SB_PLUGIN_TRANSPORT: 'ipc', SB_PLUGIN_ID: options.pluginId, SB_PLUGIN_INSTANCE: options.instanceId }),
        execArgv: [`--max-old-space-size=${options.maxHeapMb}`],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'json',
      }),
    );
    this.child.on('message', (frame) => this.frameHandler?.(frame as Frame));
  }

  send(frame: Frame): void {
    if (!this.isExited && this.child.connected) this.child.send(frame);
  }
}

/**
 * A child process that talks to the host over NATS with its own NATS user, whose permissions
 * allow only `sb.plugin.<id>.>`: nats-server itself refuses anything else it publishes.
 */
export class NatsTransport extends ChildTransport implements HostTransport {
  readonly kind = 'nats' as const;
  private readonly session = randomBytes(6).toString('hex');
  private readonly listener: Closable;
  private readonly down: string;

  constructor(private readonly options: NatsTransportOptions) {
    super();
    const prefix = `sb.plugin.${options.pluginId}.${this.session}`;
    this.down = `${prefix}.down`;
    this.listener = options.bus.listen<Frame>(`${prefix}.up`, (frame) => this.frameHandler?.(frame));
    this.watch(
      spawn(process.execPath, [`--max-old-space-size=${options.maxHeapMb}`, options.runtimeFile], {
        env: pluginEnv({
          SB_PLUGIN_TRANSPORT: 'nats',
          SB_PLUGIN_ID: options.pluginId,
          SB_PLUGIN_INSTANCE: options.instanceId,
          SB_PLUGIN_SESSION: this.session,
          SB_PLUGIN_NATS_URL: options.natsUrl,
          SB_PLUGIN_NATS_USER: options.natsUser,
          SB_PLUGIN_NATS_PASSWORD: options.natsPassword,
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    this.child.once('exit', () => void this.listener.close());
  }

  send(frame: Frame): void {
    if (!this.isExited) this.options.bus.broadcast(this.down, frame);
  }

  override async kill(): Promise<void> {
    await super.kill();
    await this.listener.close();
  }
}
