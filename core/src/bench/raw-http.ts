import net from 'node:net';

export interface RawResponse {
  status: number;
  body: string;
}

interface Pending {
  payload: string;
  resolve: (response: RawResponse) => void;
  reject: (error: Error) => void;
}

/**
 * The benchmarks' HTTP/1.1 client: keep-alive connections over raw sockets, one request in flight per
 * connection, requests written as text and responses parsed only as far as the status line and
 * Content-Length (what wrk and autocannon do). `fetch()` cost about 0.9 ms of CPU per request on the
 * 2-core benchmark machine, CPU the server and the database under test then did not get; this client
 * costs a few tens of microseconds. Connections are opened on demand up to `maxConnections`; beyond that
 * requests queue (an open-loop load then shows up as latency, as it should).
 */
export class RawHttpClient {
  private readonly idle: Connection[] = [];
  private readonly queue: Pending[] = [];
  private connections = 0;
  private readonly host: string;
  private readonly port: number;

  constructor(
    baseUrl: string,
    private readonly maxConnections = 256,
  ) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
  }

  request(method: string, path: string, headers: Record<string, string>, body = ''): Promise<RawResponse> {
    const lines = [`${method} ${path} HTTP/1.1`, `Host: ${this.host}:${this.port}`, `Content-Length: ${Buffer.byteLength(body)}`];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    const payload = `${lines.join('\r\n')}\r\n\r\n${body}`;
    return new Promise((resolve, reject) => {
      this.queue.push({ payload, resolve, reject });
      this.dispatch();
    });
  }

  close(): void {
    for (const connection of this.idle.splice(0)) connection.socket.destroy();
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let connection = this.idle.pop();
      if (!connection) {
        if (this.connections >= this.maxConnections) return;
        this.connections++;
        connection = new Connection(
          this.host,
          this.port,
          (done) => this.release(done),
          (closed) => this.forget(closed),
        );
      }
      connection.send(this.queue.shift()!);
    }
  }

  private forget(connection: Connection): void {
    this.connections--;
    const index = this.idle.indexOf(connection);
    if (index >= 0) this.idle.splice(index, 1);
  }

  private release(connection: Connection): void {
    this.idle.push(connection);
    this.dispatch();
  }
}

class Connection {
  readonly socket: net.Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private current?: Pending;

  constructor(host: string, port: number, onIdle: (connection: Connection) => void, onClose: (connection: Connection) => void) {
    this.socket = net.connect(port, host);
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0 || !this.current) return;
      const head = this.buffer.toString('latin1', 0, headerEnd);
      const length = /content-length: *(\d+)/i.exec(head);
      const total = headerEnd + 4 + (length ? Number(length[1]) : 0);
      if (this.buffer.length < total) return;
      const done = this.current;
      this.current = undefined;
      done.resolve({ status: Number(head.slice(9, 12)), body: this.buffer.toString('utf8', headerEnd + 4, total) });
      this.buffer = this.buffer.subarray(total);
      onIdle(this);
    });
    const fail = (error: Error) => {
      this.current?.reject(error);
      this.current = undefined;
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => {
      fail(new Error('connection closed'));
      onClose(this);
    });
  }

  send(pending: Pending): void {
    this.current = pending;
    this.socket.write(pending.payload);
  }
}
