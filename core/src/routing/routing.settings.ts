import type { SettingDefinition } from '../settings/settings.definitions.js';

export const ROUTING_SETTINGS = {
  heartbeatTimeoutSeconds: 'routing.heartbeatTimeoutSeconds',
  offlineGraceSeconds: 'routing.offlineGraceSeconds',
  defaultMaxConcurrent: 'routing.defaultMaxConcurrent',
  autoRoute: 'routing.autoRoute',
} as const;

const integer =
  (min: number, max: number) =>
  (value: unknown): string | null =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= max ? null : `must be an integer between ${min} and ${max}`;

export const ROUTING_SETTING_DEFINITIONS: SettingDefinition[] = [
  {
    key: ROUTING_SETTINGS.heartbeatTimeoutSeconds,
    description: 'An online or away agent with no heartbeat for this long is marked offline',
    default: 60,
    validate: integer(1, 3600),
  },
  {
    key: ROUTING_SETTINGS.offlineGraceSeconds,
    description: 'After an agent goes offline, their conversations return to the queue after this many seconds',
    default: 120,
    validate: integer(0, 86_400),
  },
  {
    key: ROUTING_SETTINGS.defaultMaxConcurrent,
    description: 'Concurrent conversations per agent unless their routing profile says otherwise',
    default: 50,
    validate: integer(1, 1000),
  },
  {
    key: ROUTING_SETTINGS.autoRoute,
    description: 'Queue every new conversation for assignment as soon as it is created',
    default: true,
    validate: (value) => (typeof value === 'boolean' ? null : 'must be true or false'),
  },
];
