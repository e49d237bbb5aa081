export const SETTINGS_CHANGED = 'sb.evt.settings.changed';

export interface SettingsChangedEvent {
  key: string;
  value: unknown;
  version: number;
  changedBy: string | null;
}
