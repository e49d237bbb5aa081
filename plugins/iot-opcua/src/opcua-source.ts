import {
  AttributeIds,
  ClientMonitoredItemGroup,
  ClientSubscription,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  UserTokenType,
  constructEventFilter,
  makeBrowsePath,
  type ClientSession,
  type DataValue,
  type MonitoringParametersOptions,
  type ReadValueIdOptions,
  type UserIdentityInfo,
  type Variant,
} from 'node-opcua';

export interface OpcuaItem {
  deviceId: string;
  metric: string;
  /** A node id such as `ns=1;s=Chiller7.Temperature`, or… */
  nodeId?: string;
  /** …a browse path from the Objects folder, e.g. `/1:Chiller7/1:Temperature`. */
  browsePath?: string;
  samplingIntervalMs?: number;
}

export interface OpcuaAlarmMapping {
  deviceId: string;
  /** The condition's name (ConditionName) or source name (SourceName) as the server reports it. */
  match: string;
  /** The fault code reported while the alarm is active (default: the condition name). */
  code?: string;
}

export interface OpcuaSourceConfig {
  endpointUrl: string;
  securityMode: 'None' | 'Sign' | 'SignAndEncrypt';
  securityPolicy: 'None' | 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss';
  auth?: { type: 'anonymous' } | { type: 'username'; username: string; password: string };
  /** Certificate trust store and the client's own key pair (the plugin's data directory). */
  pkiDir: string;
  /** Trust the server's certificate on first contact (TOFU). Off: the operator moves it from rejected/ to trusted/. */
  trustServerOnFirstUse?: boolean;
  items: OpcuaItem[];
  alarms?: OpcuaAlarmMapping[];
  publishingIntervalMs?: number;
  /** Items per subscription: a few subscriptions with many items each. */
  maxItemsPerSubscription?: number;
}

export type OpcuaQuality = 'good' | 'uncertain' | 'bad';

export interface OpcuaReading {
  deviceId: string;
  metric: string;
  value: number | string | boolean | null;
  quality: OpcuaQuality;
  at: Date;
}

export interface OpcuaCounters {
  changes: number;
  events: number;
  reconnects: number;
  sessionRestores: number;
  subscriptions: number;
  monitoredItems: number;
}

const MODES: Record<OpcuaSourceConfig['securityMode'], MessageSecurityMode> = {
  None: MessageSecurityMode.None,
  Sign: MessageSecurityMode.Sign,
  SignAndEncrypt: MessageSecurityMode.SignAndEncrypt,
};

const POLICIES: Record<OpcuaSourceConfig['securityPolicy'], SecurityPolicy> = {
  None: SecurityPolicy.None,
  Basic256Sha256: SecurityPolicy.Basic256Sha256,
  Aes128_Sha256_RsaOaep: SecurityPolicy.Aes128_Sha256_RsaOaep,
  Aes256_Sha256_RsaPss: SecurityPolicy.Aes256_Sha256_RsaPss,
};

/** OPC UA status code severity: the top two bits say good (00), uncertain (01) or bad (10/11). */
export function qualityOf(statusValue: number): OpcuaQuality {
  const severity = statusValue >>> 30;
  return severity === 0 ? 'good' : severity === 1 ? 'uncertain' : 'bad';
}

function plain(variant: Variant | undefined): number | string | boolean | null {
  const value = variant?.value as unknown;
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof (value as { text?: unknown }).text === 'string') return (value as { text: string }).text;
  if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'number') return value[0] * 2 ** 32 + value[1]; // Int64 as [high, low]
  return String(value);
}

const EVENT_FIELDS = ['EventType', 'SourceName', 'ConditionName', 'Message', 'Severity', 'ActiveState.Id', 'Time'];

/**
 * An OPC UA client that turns monitored items and Alarms & Conditions events into readings.
 * The node-opcua client reconnects with backoff and repairs its session and subscriptions
 * after a server restart; readings carry the OPC UA status as quality.
 */
export class OpcuaSource {
  readonly counters: OpcuaCounters = { changes: 0, events: 0, reconnects: 0, sessionRestores: 0, subscriptions: 0, monitoredItems: 0 };
  state: 'stopped' | 'connecting' | 'connected' | 'reconnecting' = 'stopped';
  lastError: string | null = null;
  private client?: OPCUAClient;
  private session?: ClientSession;
  private subscriptions: ClientSubscription[] = [];

  constructor(
    private readonly config: OpcuaSourceConfig,
    private readonly emit: (reading: OpcuaReading) => void,
  ) {
    const problems = OpcuaSource.validate(config);
    if (problems.length) throw new Error(`invalid OPC UA configuration: ${problems.join('; ')}`);
  }

  static validate(config: OpcuaSourceConfig): string[] {
    const problems: string[] = [];
    if (!/^opc\.tcp:\/\/[^\s]+$/.test(config.endpointUrl ?? '')) problems.push('endpointUrl must be an opc.tcp:// URL');
    if (!(config.securityMode in MODES)) problems.push('securityMode must be None, Sign or SignAndEncrypt');
    if (!(config.securityPolicy in POLICIES)) problems.push('securityPolicy is not supported');
    if ((config.securityMode === 'None') !== (config.securityPolicy === 'None'))
      problems.push('securityMode None goes with securityPolicy None, and only with it');
    if (!Array.isArray(config.items) || config.items.length === 0) problems.push('items must list at least one monitored item');
    for (const [index, item] of (config.items ?? []).entries()) {
      if (!item.nodeId === !item.browsePath) problems.push(`items[${index}] needs exactly one of nodeId or browsePath`);
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(item.deviceId ?? '')) problems.push(`items[${index}].deviceId is invalid`);
      if (!/^[A-Za-z0-9_.:/-]{1,120}$/.test(item.metric ?? '')) problems.push(`items[${index}].metric is invalid`);
    }
    return problems;
  }

  async start(): Promise<void> {
    this.state = 'connecting';
    const certificateManager = new OPCUACertificateManager({
      rootFolder: this.config.pkiDir,
      automaticallyAcceptUnknownCertificate: this.config.trustServerOnFirstUse ?? false,
    });
    await certificateManager.initialize();
    const client = OPCUAClient.create({
      applicationName: 'Switchboard',
      applicationUri: 'urn:switchboard:iot-opcua',
      endpointMustExist: false,
      securityMode: MODES[this.config.securityMode],
      securityPolicy: POLICIES[this.config.securityPolicy],
      clientCertificateManager: certificateManager,
      keepSessionAlive: true,
      requestedSessionTimeout: 60_000,
      connectionStrategy: { initialDelay: 250, maxDelay: 5_000, maxRetry: 1_000_000, randomisationFactor: 0.2 },
    });
    this.client = client;
    client.on('connection_lost', () => {
      this.state = 'reconnecting';
    });
    client.on('connection_reestablished', () => {
      this.counters.reconnects++;
      this.state = 'connected';
    });
    client.on('backoff', (retry: number, delay: number) => {
      this.lastError = `reconnect attempt ${retry}, next in ${delay} ms`;
    });
    await client.connect(this.config.endpointUrl);
    const auth = this.config.auth ?? { type: 'anonymous' };
    const identity: UserIdentityInfo =
      auth.type === 'username' ? { type: UserTokenType.UserName, userName: auth.username, password: auth.password } : { type: UserTokenType.Anonymous };
    this.session = await client.createSession(identity);
    this.session.on('session_restored', () => {
      this.counters.sessionRestores++;
    });
    await this.subscribe(this.session);
    this.state = 'connected';
  }

  private async resolveNodes(session: ClientSession): Promise<Array<{ item: OpcuaItem; nodeId: string }>> {
    const resolved: Array<{ item: OpcuaItem; nodeId: string }> = [];
    const byPath = this.config.items.filter((item) => item.browsePath);
    if (byPath.length) {
      const results = await session.translateBrowsePath(byPath.map((item) => makeBrowsePath('ObjectsFolder', item.browsePath!)));
      byPath.forEach((item, index) => {
        const target = results[index]?.targets?.[0]?.targetId;
        if (!target) throw new Error(`browse path ${item.browsePath} does not resolve on the server`);
        resolved.push({ item, nodeId: target.toString() });
      });
    }
    for (const item of this.config.items) if (item.nodeId) resolved.push({ item, nodeId: item.nodeId });
    return resolved;
  }

  private async subscribe(session: ClientSession): Promise<void> {
    const nodes = await this.resolveNodes(session);
    const chunk = Math.max(1, this.config.maxItemsPerSubscription ?? 1000);
    for (let start = 0; start < nodes.length; start += chunk) {
      const batch = nodes.slice(start, start + chunk);
      const subscription = ClientSubscription.create(session, {
        requestedPublishingInterval: this.config.publishingIntervalMs ?? 250,
        requestedLifetimeCount: 600,
        requestedMaxKeepAliveCount: 20,
        maxNotificationsPerPublish: 0,
        publishingEnabled: true,
        priority: 10,
      });
      this.subscriptions.push(subscription);
      this.counters.subscriptions++;
      const items: ReadValueIdOptions[] = batch.map(({ nodeId }) => ({ nodeId, attributeId: AttributeIds.Value }));
      const parameters: MonitoringParametersOptions = {
        samplingInterval: Math.min(...batch.map(({ item }) => item.samplingIntervalMs ?? 250)),
        discardOldest: true,
        queueSize: 10,
      };
      const group = ClientMonitoredItemGroup.create(subscription, items, parameters, TimestampsToReturn.Both);
      group.on('changed', (_monitoredItem, dataValue: DataValue, index: number) => {
        const target = batch[index];
        if (!target) return;
        this.counters.changes++;
        this.emit({
          deviceId: target.item.deviceId,
          metric: target.item.metric,
          value: plain(dataValue.value),
          quality: qualityOf(dataValue.statusCode.value),
          at: dataValue.sourceTimestamp ?? dataValue.serverTimestamp ?? new Date(),
        });
      });
      this.counters.monitoredItems += batch.length;
    }
    if (this.config.alarms?.length) await this.subscribeAlarms(session);
  }

  private async subscribeAlarms(session: ClientSession): Promise<void> {
    const subscription = ClientSubscription.create(session, {
      requestedPublishingInterval: this.config.publishingIntervalMs ?? 250,
      requestedLifetimeCount: 600,
      requestedMaxKeepAliveCount: 20,
      publishingEnabled: true,
      priority: 10,
    });
    this.subscriptions.push(subscription);
    this.counters.subscriptions++;
    const eventFilter = constructEventFilter(EVENT_FIELDS);
    const item = await subscription.monitor(
      { nodeId: 'i=2253', attributeId: AttributeIds.EventNotifier },
      { queueSize: 100, filter: eventFilter, discardOldest: true },
      TimestampsToReturn.Both,
    );
    item.on('changed', (fields: unknown) => {
      const values = (fields as Variant[]).map((variant) => plain(variant));
      const [, sourceName, conditionName, message, severity, active, time] = values;
      const mapping = this.config.alarms!.find((candidate) => candidate.match === conditionName || candidate.match === sourceName);
      if (!mapping || typeof active !== 'boolean') return;
      this.counters.events++;
      const code = mapping.code ?? String(conditionName ?? sourceName);
      this.emit({
        deviceId: mapping.deviceId,
        metric: 'fault_code',
        value: active ? code : '0',
        quality: 'good',
        at: typeof time === 'string' ? new Date(time) : new Date(),
      });
      void message;
      void severity;
    });
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    for (const subscription of this.subscriptions) await subscription.terminate().catch(() => undefined);
    this.subscriptions = [];
    await this.session?.close().catch(() => undefined);
    this.session = undefined;
    await this.client?.disconnect().catch(() => undefined);
    this.client = undefined;
  }
}
