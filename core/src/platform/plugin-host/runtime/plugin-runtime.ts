/**
 * The plugin runtime: the entry point of a plugin's worker thread or child process. It loads
 * the plugin, builds its `ctx` on top of RPC calls to the host, and answers the host's calls
 * (init, start, stop, health, test, send, http, bus messages). It never imports the core.
 *
 * Transports: a worker's parentPort, a forked child's IPC channel, or NATS (a child process
 * with its own NATS user, allowed only `sb.plugin.<id>.>`).
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import {
  createSafeFetch,
  isDefinedPlugin,
  type AttachmentRef,
  type DownloadedAttachment,
  type DefinedPlugin,
  type InboundMessage,
  type InboundResult,
  type InboxPresence,
  type StoredAttachmentInput,
  type TicketRequest,
  type TicketResult,
  type TelemetryReading,
  type PluginContext,
  type PluginHttpRequest,
  type PluginLogger,
  type RouteHandler,
} from '@switchboard/plugin-sdk';
import { RpcPeer, type Frame } from './rpc.js';

export interface InitParams {
  pluginId: string;
  instanceId: string;
  inboxId: string | null;
  publicUrl: string | null;
  entry: string;
  config: Record<string, unknown>;
  allowPrivateNetwork: boolean;
  /** The manifest's `capabilities.network`: what `ctx.fetch` may reach. */
  networkTargets: string[];
  callTimeoutMs: number;
}

interface Transport {
  send(frame: Frame): void;
  onFrame(handler: (frame: Frame) => void): void;
}

async function connectTransport(): Promise<Transport> {
  if (!isMainThread && parentPort) {
    const port = parentPort;
    return { send: (frame) => port.postMessage(frame), onFrame: (handler) => port.on('message', handler) };
  }
  if (process.env.SB_PLUGIN_TRANSPORT === 'nats') {
    const { connect } = await import('@nats-io/transport-node');
    const pluginId = process.env.SB_PLUGIN_ID!;
    const session = process.env.SB_PLUGIN_SESSION!;
    const nc = await connect({
      servers: process.env.SB_PLUGIN_NATS_URL!.split(','),
      user: process.env.SB_PLUGIN_NATS_USER,
      pass: process.env.SB_PLUGIN_NATS_PASSWORD,
      name: `switchboard-plugin-${pluginId}`,
      inboxPrefix: `sb.plugin.${pluginId}._inbox`,
      maxReconnectAttempts: -1,
    });
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    const up = `sb.plugin.${pluginId}.${session}.up`;
    let handler: ((frame: Frame) => void) | undefined;
    nc.subscribe(`sb.plugin.${pluginId}.${session}.down`, {
      callback: (error, message) => {
        if (!error) handler?.(JSON.parse(decoder.decode(message.data)) as Frame);
      },
    });
    void nc.closed().then(() => process.exit(3));
    await nc.flush();
    return {
      send: (frame) => nc.publish(up, encoder.encode(JSON.stringify(frame))),
      onFrame: (h) => {
        handler = h;
      },
    };
  }
  if (typeof process.send === 'function') {
    return {
      send: (frame) => process.send!(frame),
      onFrame: (handler) => process.on('message', (frame) => handler(frame as Frame)),
    };
  }
  throw new Error('plugin runtime started without a transport (run it through the plugin host)');
}

interface Route {
  method: string;
  path: string;
  handler: RouteHandler;
}

async function main(): Promise<void> {
  const transport = await connectTransport();
  let plugin: DefinedPlugin | undefined;
  let ctx: PluginContext | undefined;
  let params: InitParams | undefined;
  const routes = new Map<string, Route>();
  const subscriptions = new Map<string, (data: unknown, topic: string) => void | Promise<void>>();
  const timers = new Map<number, { handle: NodeJS.Timeout; repeat: boolean }>();
  let nextTimer = 1;
  let acceptingRoutes = false;

  const log =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, fields?: Record<string, unknown>): void => {
      try {
        transport.send({ t: 'log', level, message: String(message).slice(0, 2000), fields: fields ? JSON.parse(JSON.stringify(fields)) : undefined });
      } catch {
        // unserialisable fields are dropped
        transport.send({ t: 'log', level, message: String(message).slice(0, 2000) });
      }
    };
  const logger: PluginLogger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };

  const peer: RpcPeer = new RpcPeer(
    (frame) => transport.send(frame),
    async (method, input) => {
      switch (method) {
        case 'init': {
          params = input as InitParams;
          const module = (await import(pathToFileURL(params.entry).href)) as { default?: unknown };
          if (!isDefinedPlugin(module.default)) {
            throw Object.assign(new Error(`${params.entry} must "export default definePlugin({...})" from @switchboard/plugin-sdk`), {
              code: 'plugin_invalid',
            });
          }
          plugin = module.default;
          ctx = buildContext(params);
          acceptingRoutes = true;
          try {
            await plugin.init?.(ctx);
          } finally {
            acceptingRoutes = false;
          }
          return {
            routes: [...routes.entries()].map(([id, route]) => ({ id, method: route.method, path: route.path })),
            channel: Boolean(plugin.channel),
            sends: plugin.channel ? plugin.channel.sends?.(ctx.config) !== false : false,
          };
        }
        case 'start':
          await plugin?.start?.(ctx!);
          return null;
        case 'stop':
          for (const { handle, repeat } of timers.values()) (repeat ? clearInterval : clearTimeout)(handle);
          timers.clear();
          await plugin?.stop?.();
          return null;
        case 'health':
          return plugin?.health ? await plugin.health() : { status: 'up' };
        case 'test':
          return plugin?.test ? await plugin.test(ctx!) : { ok: true, detail: 'The plugin has no connectivity test; it started.' };
        case 'send':
          if (!plugin?.channel) throw Object.assign(new Error('This plugin is not a channel'), { code: 'not_a_channel' });
          return plugin.channel.send(input as never, ctx!);
        case 'connector.lookupCustomer':
          if (!plugin?.connector) throw Object.assign(new Error('This plugin is not a connector'), { code: 'not_a_connector' });
          return plugin.connector.lookupCustomer(input as never, ctx!);
        case 'connector.syncTicket':
          if (!plugin?.connector) throw Object.assign(new Error('This plugin is not a connector'), { code: 'not_a_connector' });
          return plugin.connector.syncTicket(input as never, ctx!);
        case 'http': {
          const { routeId, request } = input as { routeId: string; request: PluginHttpRequest };
          const route = routes.get(routeId);
          if (!route) throw Object.assign(new Error('route not registered'), { code: 'route_not_found' });
          return route.handler(request);
        }
        case 'bus.message': {
          const { subscriptionId, data, topic } = input as { subscriptionId: string; data: unknown; topic: string };
          await subscriptions.get(subscriptionId)?.(data, topic);
          return null;
        }
        default:
          throw Object.assign(new Error(`unknown method ${method}`), { code: 'unknown_method' });
      }
    },
  );

  const call = <T>(method: string, input: unknown): Promise<T> => peer.call<T>(method, input, params?.callTimeoutMs ?? 10_000);

  function buildContext(init: InitParams): PluginContext {
    const runTimer = (fn: () => void | Promise<void>) => () => {
      void Promise.resolve()
        .then(fn)
        .catch((error: Error) => logger.error('timer callback failed', { reason: error.message }));
    };
    return Object.freeze({
      pluginId: init.pluginId,
      instanceId: init.instanceId,
      inboxId: init.inboxId,
      publicUrl: init.publicUrl,
      logger,
      config: Object.freeze(init.config) as Record<string, unknown>,
      kv: {
        get: <T>(key: string) => call<{ value?: T }>('kv.get', { key }).then((r) => r.value),
        set: (key: string, value: unknown, options?: { ttlMs?: number }) => call<void>('kv.set', { key, value, ttlMs: options?.ttlMs }),
        setIfAbsent: (key: string, value: unknown, options?: { ttlMs?: number }) => call<boolean>('kv.setIfAbsent', { key, value, ttlMs: options?.ttlMs }),
        delete: (key: string) => call<void>('kv.delete', { key }),
        list: (prefix: string, limit?: number) => call<string[]>('kv.list', { prefix, limit }),
      },
      bus: {
        publish: (topic: string, data: unknown) => call<void>('bus.publish', { topic, data }),
        subscribe: async (topic: string, handler: (data: unknown, topic: string) => void | Promise<void>) => {
          const { subscriptionId } = await call<{ subscriptionId: string }>('bus.subscribe', { topic });
          subscriptions.set(subscriptionId, handler);
          return async () => {
            subscriptions.delete(subscriptionId);
            await call('bus.unsubscribe', { subscriptionId });
          };
        },
      },
      http: {
        route: (method: string, path: string, handler: RouteHandler) => {
          if (!acceptingRoutes) throw new Error('ctx.http.route() may only be called during init()');
          const id = `${method.toUpperCase()} ${path}`;
          routes.set(id, { method: method.toUpperCase(), path, handler });
        },
      },
      timers: {
        setTimeout: (fn: () => void | Promise<void>, ms: number) => {
          const id = nextTimer++;
          const handle = setTimeout(() => {
            timers.delete(id);
            runTimer(fn)();
          }, ms);
          timers.set(id, { handle, repeat: false });
          return id;
        },
        setInterval: (fn: () => void | Promise<void>, ms: number) => {
          const id = nextTimer++;
          timers.set(id, { handle: setInterval(runTimer(fn), Math.max(ms, 10)), repeat: true });
          return id;
        },
        clear: (id: number) => {
          const timer = timers.get(id);
          if (timer) (timer.repeat ? clearInterval : clearTimeout)(timer.handle);
          timers.delete(id);
        },
      },
      fetch: createSafeFetch({ allowPrivate: init.allowPrivateNetwork, allowedTargets: init.networkTargets }),
      inbound: (message: InboundMessage) => call<InboundResult>('inbound', message),
      telemetry: (reading: TelemetryReading) => call<void>('telemetry', reading),
      storeAttachment: (attachment: StoredAttachmentInput) => call<AttachmentRef>('attachment.store', attachment),
      uploadAttachment: (attachment: StoredAttachmentInput) => call<AttachmentRef>('attachment.upload', attachment),
      downloadAttachment: (input: { id: string; contactId: string }) => call<DownloadedAttachment>('attachment.download', input),
      visitorToken: (claims: { visitorId: string; contactId?: string | null; ttlSeconds?: number }) =>
        call<{ token: string; expiresAt: string }>('realtime.visitorToken', claims),
      presence: () => call<InboxPresence>('presence', null),
      createTicket: (request: TicketRequest) => call<TicketResult>('ticket.create', request),
    }) as PluginContext;
  }

  transport.onFrame((frame) => {
    if (frame.t === 'ping') {
      transport.send({ t: 'pong', n: frame.n });
      return;
    }
    peer.receive(frame);
  });
  transport.send({ t: 'hello' });
}

main().catch((error: Error) => {
  process.stderr.write(`plugin runtime failed: ${error.stack ?? error.message}\n`);
  process.exit(2);
});
