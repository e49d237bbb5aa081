import { AppError } from '../errors/app-error.js';

export type PluginErrorCode =
  | 'plugin_unknown'
  | 'plugin_invalid'
  | 'plugin_instance_unknown'
  | 'plugin_instance_exists'
  | 'plugin_config_invalid'
  | 'plugin_version_conflict'
  | 'plugin_not_running'
  | 'plugin_call_failed'
  | 'plugin_timeout'
  | 'plugin_route_not_found';

const STATUS: Record<PluginErrorCode, number> = {
  plugin_unknown: 404,
  plugin_invalid: 422,
  plugin_instance_unknown: 404,
  plugin_instance_exists: 409,
  plugin_config_invalid: 400,
  plugin_version_conflict: 409,
  plugin_not_running: 503,
  plugin_call_failed: 502,
  plugin_timeout: 504,
  plugin_route_not_found: 404,
};

export class PluginError extends AppError {
  constructor(code: PluginErrorCode, message: string, details?: unknown) {
    super(code, message, STATUS[code], details);
  }
}
