export const DEVICE_FAULT_OPENED = 'sb.evt.device.fault_opened';
export const DEVICE_FAULT_REPEATED = 'sb.evt.device.fault_repeated';
export const DEVICE_FAULT_CLOSED = 'sb.evt.device.fault_closed';
export const DEVICE_STATE_CHANGED = 'sb.evt.device.state_changed';
export const DEVICE_OWNER_NOTIFICATION_DUE = 'sb.evt.device.owner_notification_due';
export const DEVICE_OWNER_NOTIFIED = 'sb.evt.device.owner_notified';
export const DEVICE_RULES_CHANGED = 'sb.evt.device.rules_changed';

export interface FaultEpisodeEvent {
  episodeId: string;
  deviceId: string;
  ruleId: string;
  ticketId: string | null;
  severity: string;
  occurrences: number;
  teamId: string | null;
}

export interface DeviceStateChangedEvent {
  deviceId: string;
  from: string;
  to: string;
}

/** What device plugins (and the HTTP gateway endpoint) publish on `sb.telemetry.<deviceId>`. */
export interface TelemetryMessage {
  deviceId: string;
  readings: Array<{ metric: string; value: number | string | boolean; ts?: string; quality?: 'good' | 'uncertain' | 'bad' }>;
}

export const telemetrySubject = (deviceId: string) => `sb.telemetry.${deviceId}`;
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
