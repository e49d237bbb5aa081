import type { HostTransport } from './plugin-transport.js';
import { RpcError, RpcPeer, type Frame } from './runtime/rpc.js';
import type { InitParams } from './runtime/plugin-runtime.js';

export type InstanceState = 'starting' | 'running' | 'backoff' | 'crash_loop' | 'stopped';

export interface SupervisorOptions {
  callTimeoutMs: number;
  /** Ping interval; a runtime that misses three pongs in a row is spinning or hung and is killed. */
  heartbeatMs: number;
  backoffMs: number[];
  /** Consecutive failed starts or crashes before the instance is disabled. */
  crashLoopRestarts: number;
  /** Running this long without a crash resets the failure count. */
  stableMs: number;
  /** Connectivity probes run `init` only: no listeners, no pollers. */
  skipStart?: boolean;
}

export interface RouteSpec {
  id: string;
  method: string;
  path: string;
}

export interface SupervisorHooks {
  createTransport(): Promise<HostTransport>;
  initParams(): InitParams;
  /** Calls from the plugin into the host (kv, inbound, …). */
  handleCall(method: string, params: unknown): Promise<unknown>;
  onLog(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
  onRunning(routes: RouteSpec[]): void;
  onFailure(reason: string, failures: number, willRestartInMs: number | null): void;
  onCrashLoop(reason: string): void;
}

/**
 * Runs one plugin instance and keeps it running: starts the runtime, calls init and start with
 * timeouts, pings it, and on any failure (throw in start, exit, crash, missed heartbeats) kills it
 * and restarts it with exponential backoff, until `crashLoopRestarts` consecutive failures
 * disable it. Nothing a plugin does can block this loop: it lives in another thread or process.
 */
export class InstanceSupervisor {
  state: InstanceState = 'stopped';
  failures = 0;
  restarts = 0;
  lastError: string | null = null;
  startedAt: Date | null = null;
  routes: RouteSpec[] = [];
  isChannel = false;
  /** False when the running channel instance, as configured, sends nothing (`ChannelCapability.sends`); null before it first ran. */
  sends: boolean | null = null;

  private transport?: HostTransport;
  private peer?: RpcPeer;
  private heartbeat?: NodeJS.Timeout;
  private restartTimer?: NodeJS.Timeout;
  private stableTimer?: NodeJS.Timeout;
  private generation = 0;
  private stopping = false;

  constructor(
    readonly instanceId: string,
    private readonly options: SupervisorOptions,
    private readonly hooks: SupervisorHooks,
  ) {}

  /** Starts (or restarts) the instance. Never throws: failures go through the restart policy. */
  async start(): Promise<void> {
    this.stopping = false;
    const generation = ++this.generation;
    this.state = 'starting';
    try {
      const transport = await this.hooks.createTransport();
      if (generation !== this.generation) {
        await transport.kill();
        return;
      }
      this.transport = transport;
      const hello = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the runtime did not come up within ${this.options.callTimeoutMs} ms`)), this.options.callTimeoutMs);
        const peer = new RpcPeer(
          (frame) => transport.send(frame),
          (method, params) => this.hooks.handleCall(method, params),
        );
        this.peer = peer;
        let outstanding = 0;
        let lastTick = Date.now();
        transport.onFrame((frame: Frame) => {
          if (frame.t === 'hello') {
            clearTimeout(timer);
            resolve();
          } else if (frame.t === 'pong') {
            outstanding = 0;
          } else if (frame.t === 'log') {
            this.hooks.onLog(frame.level, frame.message, frame.fields);
          } else {
            peer.receive(frame);
          }
        });
        transport.onExit((reason) => {
          clearTimeout(timer);
          reject(new Error(reason));
          peer.close(new RpcError('plugin_exited', `the plugin ${reason}`));
          if (generation === this.generation && !this.stopping) void this.fail(`the plugin ${reason}`, generation);
        });
        let n = 0;
        this.heartbeat = setInterval(() => {
          const now = Date.now();
          // A late tick means the core itself was stalled: that is not the plugin's fault.
          const late = now - lastTick > this.options.heartbeatMs * 2;
          lastTick = now;
          if (late) outstanding = 0;
          if (outstanding >= 3) {
            void this.fail(
              `no heartbeat answered for ${outstanding} intervals of ${this.options.heartbeatMs} ms: the plugin is hung or spinning; killed`,
              generation,
            );
            return;
          }
          outstanding++;
          try {
            transport.send({ t: 'ping', n: ++n });
          } catch {
            // exit handler reports it
          }
        }, this.options.heartbeatMs);
        this.heartbeat.unref();
      });
      await hello;
      const init = await this.peer!.call<{ routes: RouteSpec[]; channel: boolean; sends: boolean }>(
        'init',
        this.hooks.initParams(),
        this.options.callTimeoutMs,
      );
      if (generation !== this.generation) return;
      if (!this.options.skipStart) await this.peer!.call('start', null, this.options.callTimeoutMs);
      if (generation !== this.generation) return;
      this.routes = init.routes;
      this.isChannel = init.channel;
      this.sends = init.sends;
      this.state = 'running';
      this.startedAt = new Date();
      this.hooks.onRunning(init.routes);
      this.stableTimer = setTimeout(() => {
        if (generation === this.generation && this.state === 'running') this.failures = 0;
      }, this.options.stableMs);
      this.stableTimer.unref();
    } catch (error) {
      if (generation === this.generation && !this.stopping) await this.fail(`start failed: ${(error as Error).message}`, generation);
    }
  }

  private async fail(reason: string, generation: number): Promise<void> {
    if (generation !== this.generation || this.stopping) return;
    this.generation++;
    this.clearTimers();
    this.lastError = reason.slice(0, 1000);
    this.failures++;
    const transport = this.transport;
    this.transport = undefined;
    this.peer?.close(new RpcError('plugin_not_running', 'the plugin is restarting'));
    this.peer = undefined;
    await transport?.kill();
    if (this.failures >= this.options.crashLoopRestarts) {
      this.state = 'crash_loop';
      this.hooks.onFailure(this.lastError, this.failures, null);
      this.hooks.onCrashLoop(this.lastError);
      return;
    }
    const delay = this.options.backoffMs[Math.min(this.failures - 1, this.options.backoffMs.length - 1)] ?? 1000;
    this.state = 'backoff';
    this.hooks.onFailure(this.lastError, this.failures, delay);
    const next = this.generation;
    this.restartTimer = setTimeout(() => {
      if (next !== this.generation || this.stopping) return;
      this.restarts++;
      void this.start();
    }, delay);
    this.restartTimer.unref();
  }

  /** Calls into the running plugin. */
  async call<T>(method: string, params: unknown, timeoutMs = this.options.callTimeoutMs): Promise<T> {
    if (this.state !== 'running' || !this.peer) throw new RpcError('plugin_not_running', `plugin instance ${this.instanceId} is ${this.state}`);
    return this.peer.call<T>(method, params, timeoutMs);
  }

  /** Stops for good (disable, config change, shutdown): graceful `stop()` first, then kill. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopping = true;
    this.generation++;
    this.clearTimers();
    const peer = this.peer;
    const transport = this.transport;
    this.peer = undefined;
    this.transport = undefined;
    if (peer && this.state === 'running') await peer.call('stop', null, graceMs).catch(() => undefined);
    peer?.close(new RpcError('plugin_not_running', 'the plugin was stopped'));
    await transport?.kill();
    if (this.state !== 'crash_loop') this.state = 'stopped';
    this.routes = [];
  }

  private clearTimers(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.stableTimer) clearTimeout(this.stableTimer);
    this.heartbeat = this.restartTimer = this.stableTimer = undefined;
  }
}
