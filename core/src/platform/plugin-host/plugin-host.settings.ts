import type { AppConfig } from '../config/app-config.js';

export interface PluginHostSettings {
  /** Discover the workspace's own `plugins/*` packages (bundled plugins). */
  workspace: boolean;
  /** Directory of third-party plugin packages (`SWITCHBOARD_PLUGINS_DIR`). */
  dir?: string;
  /** Extra plugin package directories (the SDK test kit uses this). */
  paths: string[];
  /** Load `src/index.ts` through esbuild instead of `dist/` (development, test kit). */
  fromSource: boolean;
  /** Force an isolation for every plugin, or `auto` (the manifest's choice, else worker / own process). */
  isolation: 'auto' | 'worker' | 'process';
  callTimeoutMs: number;
  heartbeatMs: number;
  backoffMs: number[];
  crashLoopRestarts: number;
  stableMs: number;
  maxHeapMb: number;
  maxAttachmentBytes: number;
}

export const PLUGIN_HOST_DEFAULTS: PluginHostSettings = {
  workspace: true,
  paths: [],
  fromSource: false,
  isolation: 'auto',
  callTimeoutMs: 10_000,
  heartbeatMs: 2000,
  backoffMs: [500, 1000, 2000, 5000, 15_000, 30_000],
  crashLoopRestarts: 5,
  stableMs: 60_000,
  maxHeapMb: 256,
  maxAttachmentBytes: 10 * 1024 * 1024,
};

export function pluginHostSettings(config: AppConfig): PluginHostSettings {
  const given = (config as { plugins?: Partial<PluginHostSettings> }).plugins ?? {};
  const settings = { ...PLUGIN_HOST_DEFAULTS };
  for (const [key, value] of Object.entries(given)) if (value !== undefined) (settings as Record<string, unknown>)[key] = value;
  return settings;
}
