import type { AppConfig } from '../platform/config/app-config.js';

export interface RealtimeConfig {
  /** Browser origins allowed to open the socket (exact `scheme://host[:port]`). Empty: same origin as the request's Host or `http.publicUrl`. */
  allowedOrigins: string[];
  /** HMAC key for visitor tokens (≥ 32 chars). Empty: one is generated and stored in the database. */
  visitorTokenSecret?: string;
  /** Largest frame a client may send; bigger frames close the socket with 1009. */
  maxPayloadBytes: number;
  /** Bytes waiting to be sent to one client before it is closed with 4008. */
  maxBufferedBytes: number;
  /** Server ping interval; a client that misses one full interval is dropped. */
  pingIntervalMs: number;
}

export const REALTIME_DEFAULTS: RealtimeConfig = {
  allowedOrigins: [],
  maxPayloadBytes: 128 * 1024,
  maxBufferedBytes: 1024 * 1024,
  pingIntervalMs: 25_000,
};

export function realtimeConfig(config: AppConfig): RealtimeConfig {
  const given: Partial<RealtimeConfig> = config.realtime ?? {};
  return {
    allowedOrigins: given.allowedOrigins ?? REALTIME_DEFAULTS.allowedOrigins,
    visitorTokenSecret: given.visitorTokenSecret || undefined,
    maxPayloadBytes: given.maxPayloadBytes ?? REALTIME_DEFAULTS.maxPayloadBytes,
    maxBufferedBytes: given.maxBufferedBytes ?? REALTIME_DEFAULTS.maxBufferedBytes,
    pingIntervalMs: given.pingIntervalMs ?? REALTIME_DEFAULTS.pingIntervalMs,
  };
}
