export declare function freePort(): Promise<number>;
export declare function waitForPort(port: number, timeoutMs?: number): Promise<void>;
export declare function hasMariadb(): boolean;
export declare function hasNats(): boolean;
export declare class MariaDbServer {
  readonly dir: string;
  readonly port: number;
  readonly rootUrl: string;
  child?: import('node:child_process').ChildProcess;
  static create(): Promise<MariaDbServer>;
  start(): Promise<void>;
  createDatabase(name: string): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}
export declare class NatsServer {
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  child?: import('node:child_process').ChildProcess;
  static create(options?: { args?: string[]; config?: string }): Promise<NatsServer>;
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}
