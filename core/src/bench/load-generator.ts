/**
 * HTTP load generator, run as its own process so it does not share an event loop with the
 * server under test. `node load-generator.js <url> <seconds> <connections>` prints one JSON
 * line: `{ requests, errors, seconds, rps }`. Keep-alive connections, one request in flight
 * per connection (like autocannon's default pipelining of 1).
 */
import http from 'node:http';

async function main(): Promise<void> {
  const [url, secondsArg, connectionsArg] = process.argv.slice(2);
  if (!url) throw new Error('usage: load-generator <url> [seconds] [connections]');
  const seconds = Number(secondsArg ?? 5);
  const connections = Number(connectionsArg ?? 32);
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let requests = 0;
  let errors = 0;
  const warmupUntil = Date.now() + 500;
  let started = 0;
  let measuring = false;
  const deadline = warmupUntil + seconds * 1000;

  const once = () =>
    new Promise<void>((resolve) => {
      const request = http.request({ host: target.hostname, port: target.port, path: target.pathname, agent, method: 'GET' }, (response) => {
        response.on('data', () => undefined);
        response.on('end', () => {
          if (measuring) {
            if (response.statusCode === 200) requests++;
            else errors++;
          }
          resolve();
        });
      });
      request.on('error', () => {
        if (measuring) errors++;
        resolve();
      });
      request.end();
    });

  const worker = async () => {
    while (Date.now() < deadline) {
      if (!measuring && Date.now() >= warmupUntil) {
        measuring = true;
        started = Date.now();
      }
      await once();
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = (Date.now() - started) / 1000;
  agent.destroy();
  process.stdout.write(`${JSON.stringify({ requests, errors, seconds: elapsed, rps: requests / elapsed })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
