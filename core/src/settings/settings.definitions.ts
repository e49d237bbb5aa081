/**
 * Admin-editable settings. Each has a validator that returns an error message or null;
 * a value is stored only after it passes. Modules add their own definitions at init.
 */
export interface SettingDefinition<T = unknown> {
  key: string;
  description: string;
  default: T;
  validate: (value: unknown) => string | null;
}

const isTimeZone = (value: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
};

const string =
  (min: number, max: number) =>
  (value: unknown): string | null =>
    typeof value === 'string' && value.trim().length >= min && value.length <= max ? null : `must be a string of ${min}–${max} characters`;

const integer =
  (min: number, max: number) =>
  (value: unknown): string | null =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= max ? null : `must be an integer between ${min} and ${max}`;

const oneOf =
  (...choices: string[]) =>
  (value: unknown): string | null =>
    typeof value === 'string' && choices.includes(value) ? null : `must be one of ${choices.join(', ')}`;

export const CORE_SETTINGS: SettingDefinition[] = [
  { key: 'general.organizationName', description: 'Name shown to customers and agents', default: 'Switchboard', validate: string(1, 200) },
  { key: 'general.defaultLocale', description: 'Default language for new users and customers', default: 'en-US', validate: oneOf('en-US', 'zh-CN') },
  {
    key: 'general.timezone',
    description: 'IANA time zone for reports and business hours',
    default: 'UTC',
    validate: (value) => (typeof value === 'string' && value.length <= 64 && isTimeZone(value) ? null : 'must be an IANA time zone such as Asia/Shanghai'),
  },
  {
    key: 'conversations.autoResolveAfterHours',
    description: 'Resolve idle conversations after this many hours (0 = never)',
    default: 0,
    validate: integer(0, 720),
  },
  { key: 'privacy.retentionDays', description: 'Days to keep resolved conversations before erasure', default: 730, validate: integer(30, 3650) },
];
