/**
 * Load generator for the realtime benchmark, run as its own process (`node realtime-loadgen.js
 * <plan.json>`), so client work never shares the core's event loop. It opens N visitor sockets
 * and M agent sockets, has K visitors start a conversation, subscribes each agent to its share of
 * those conversations, then sends `rate` visitor messages per second for `seconds`, each carrying
 * its send time; agents record customer→agent delivery latency. Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

interface Plan {
  url: string;
  visitorTokens: string[];
  agentKey: string;
  agents: number;
  active: number;
  rate: number;
  seconds: number;
  /** Seconds at the same rate before the measured phase (not measured). */
  warmupSeconds?: number;
}

type Frame = { event: string; data: Record<string, unknown> };

const plan = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Plan;
const wsUrl = `${plan.url.replace(/^http/, 'ws')}/ws`;

function open(protocols: string[], headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, protocols, { headers, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_request, response) => reject(new Error(`handshake ${response.statusCode}`)));
  });
}

async function inBatches<T>(count: number, batch: number, fn: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < count; start += batch) {
    results.push(...(await Promise.all(Array.from({ length: Math.min(batch, count - start) }, (_, i) => fn(start + i)))));
  }
  return results;
}

const sentTimes = new Map<string, number>();
const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);

async function main(): Promise<void> {
  const started = Date.now();
  let closedUnexpectedly = 0;
  const visitors = await inBatches(plan.visitorTokens.length, 200, async (index) => {
    const ws = await open(['switchboard.v1', `visitor.${plan.visitorTokens[index]}`]);
    ws.on('close', () => closedUnexpectedly++);
    return ws;
  });
  const connectSeconds = (Date.now() - started) / 1000;

  // K visitors start conversations.
  const conversationOf = new Map<number, string>();
  await inBatches(plan.active, 50, (index) => {
    const ws = visitors[index]!;
    return new Promise<void>((resolve) => {
      const onMessage = (raw: WebSocket.RawData) => {
        const frame = JSON.parse(raw.toString()) as Frame;
        if (frame.event === 'message.ack' && frame.data.clientMessageId === `hello-${index}`) {
          conversationOf.set(index, frame.data.conversationId as string);
          ws.off('message', onMessage);
          resolve();
        }
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ event: 'message.send', data: { clientMessageId: `hello-${index}`, text: 'hello' } }));
    });
  });

  const latencies: number[] = [];
  const ackLatencies: number[] = [];
  const timeline: Array<{ sentAt: number; ms: number }> = [];
  let received = 0;
  // Commit latency as the visitor sees it (send → message.ack), to separate ingest from delivery.
  for (const index of conversationOf.keys()) {
    visitors[index]!.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as Frame;
      if (frame.event !== 'message.ack') return;
      const id = String(frame.data.clientMessageId);
      const sentAt = sentTimes.get(id);
      if (sentAt !== undefined) {
        ackLatencies.push(Date.now() - sentAt);
        sentTimes.delete(id);
      }
    });
  }
  const agents = await inBatches(plan.agents, 50, async () => {
    const ws = await open(['switchboard.v1'], { 'x-api-key': plan.agentKey });
    ws.on('close', () => closedUnexpectedly++);
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as Frame;
      if (frame.event !== 'message') return;
      const text = (frame.data.message as { text?: string }).text ?? '';
      if (!text.startsWith('t=')) return;
      received++;
      const sentAt = Number(text.slice(2));
      latencies.push(Date.now() - sentAt);
      timeline.push({ sentAt, ms: Date.now() - sentAt });
    });
    return ws;
  });
  // Each agent subscribes to its share of the conversations, from their current head.
  const ids = [...conversationOf.values()];
  await Promise.all(
    agents.map(async (ws, agentIndex) => {
      for (let i = agentIndex; i < ids.length; i += agents.length) ws.send(JSON.stringify({ event: 'subscribe', data: { topic: 'conversation', id: ids[i] } }));
    }),
  );
  // The steady phase measures steady state: the core first finishes the work the setup burst left (its
  // consumers handle the K new conversations). The bench tells us when (IPC); without it, 2 s.
  await new Promise<void>((resolve) => {
    if (!process.send) return void setTimeout(resolve, 2000);
    process.once('message', () => resolve());
    process.send('settling');
  });

  // Warm-up at the same rate, not measured: a core that sat idle while the machine settled starts cold
  // (the VM reclaims idle pages, pools and JIT warm up), which is not the steady state being measured.
  const senders0 = [...conversationOf.keys()];
  const warmup = Math.round(plan.rate * (plan.warmupSeconds ?? 0));
  const warmStart = Date.now();
  for (let n = 0; n < warmup; n++) {
    const wait = warmStart + (n * 1000) / plan.rate - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    visitors[senders0[n % senders0.length]!]!.send(JSON.stringify({ event: 'message.send', data: { clientMessageId: `w-${n}`, text: `w=${Date.now()}` } }));
  }

  // Steady load: `rate` messages per second from random active visitors.
  const total = Math.round(plan.rate * plan.seconds);
  const senders = [...conversationOf.keys()];
  const sendStart = Date.now();
  for (let n = 0; n < total; n++) {
    const due = sendStart + (n * 1000) / plan.rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const ws = visitors[senders[n % senders.length]!]!;
    const now = Date.now();
    sentTimes.set(`m-${n}`, now);
    ws.send(JSON.stringify({ event: 'message.send', data: { clientMessageId: `m-${n}`, text: `t=${now}` } }));
  }
  const sendSeconds = (Date.now() - sendStart) / 1000;
  const drainDeadline = Date.now() + 15_000;
  while (received < total && Date.now() < drainDeadline) await new Promise((resolve) => setTimeout(resolve, 100));
  const open_ = [...visitors, ...agents].filter((ws) => ws.readyState === WebSocket.OPEN).length;
  latencies.sort((a, b) => a - b);
  ackLatencies.sort((a, b) => a - b);
  process.stdout.write(
    `${JSON.stringify({
      visitors: visitors.length,
      agents: agents.length,
      activeConversations: ids.length,
      connectionsHeld: open_,
      closedUnexpectedly,
      connectSeconds,
      sent: total,
      received,
      sendSeconds,
      deliveredPerSecond: Math.round(received / sendSeconds),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? NaN,
      ackP50Ms: percentile(ackLatencies, 50),
      ackP99Ms: percentile(ackLatencies, 99),
      // Delivery p99 per 5 s of the send phase: a tail confined to one window points at a stall, not saturation.
      p99By5sMs: Array.from({ length: Math.ceil(sendSeconds / 5) }, (_, window) =>
        percentile(
          timeline
            .filter((entry) => entry.sentAt - sendStart >= window * 5000 && entry.sentAt - sendStart < (window + 1) * 5000)
            .map((entry) => entry.ms)
            .sort((a, b) => a - b),
          99,
        ),
      ),
    })}\n`,
  );
  for (const ws of [...visitors, ...agents]) ws.terminate();
  process.disconnect?.();
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
