import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManifestError, validateManifest, type PluginManifest } from '@switchboard/plugin-sdk';

export type PluginSource = 'workspace' | 'directory' | 'path';

export interface DiscoveredPlugin {
  id: string;
  manifest: PluginManifest;
  dir: string;
  packageName: string;
  packageVersion: string;
  source: PluginSource;
  /** Plugins from the plugins directory are third-party; workspace plugins ship with Switchboard. */
  thirdParty: boolean;
  /** Absolute path of the code to load: the built JS, or the TypeScript source in development. */
  entry: string;
  entryIsSource: boolean;
}

export interface DiscoveryProblem {
  dir: string;
  packageName?: string;
  id?: string;
  message: string;
  problems: string[];
}

export interface DiscoveryOptions {
  workspace: boolean;
  dir?: string;
  paths: string[];
  /** Load `src/index.ts` (bundled on the fly) even when a build exists: development and the test kit. */
  fromSource: boolean;
}

export interface DiscoveryResult {
  plugins: Map<string, DiscoveredPlugin>;
  problems: DiscoveryProblem[];
}

/** The repository root when running from a checkout (core/src or core/dist → ../..). */
export function workspaceRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 8; depth++) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { workspaces?: unknown };
        if (Array.isArray(pkg.workspaces)) return dir;
      } catch {
        // keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

function packageDirs(root: string): string[] {
  if (!existsSync(root)) return [];
  const result: string[] = [];
  for (const name of readdirSync(root).sort()) {
    const full = join(root, name);
    if (!statSync(full).isDirectory()) continue;
    if (name.startsWith('@')) {
      for (const inner of readdirSync(full).sort()) if (statSync(join(full, inner)).isDirectory()) result.push(join(full, inner));
    } else if (!name.startsWith('.')) {
      result.push(full);
    }
  }
  return result;
}

/** Reads and validates one plugin package. Returns undefined for packages that are not plugins. */
export function readPlugin(dir: string, source: PluginSource, fromSource: boolean): DiscoveredPlugin | DiscoveryProblem | undefined {
  const pkgPath = join(dir, 'package.json');
  if (!existsSync(pkgPath)) return source === 'workspace' ? undefined : { dir, message: `${dir} has no package.json`, problems: ['no package.json'] };
  let pkg: { name?: string; version?: string; main?: string; switchboard?: unknown };
  try {
    pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as typeof pkg;
  } catch (error) {
    return { dir, message: `${pkgPath} is not valid JSON`, problems: [(error as Error).message] };
  }
  if (pkg.switchboard === undefined) {
    return source === 'workspace'
      ? undefined
      : { dir, packageName: pkg.name, message: `${pkg.name ?? dir} is not a Switchboard plugin`, problems: ['package.json has no "switchboard" manifest'] };
  }
  let manifest: PluginManifest;
  try {
    manifest = validateManifest(pkg.switchboard, pkgPath);
  } catch (error) {
    const problems = error instanceof ManifestError ? error.problems : [(error as Error).message];
    const id = typeof (pkg.switchboard as { id?: unknown })?.id === 'string' ? (pkg.switchboard as { id: string }).id : undefined;
    return { dir, packageName: pkg.name, id, message: (error as Error).message, problems };
  }
  const built = resolve(dir, pkg.main ?? 'dist/index.js');
  const sourceEntry = join(dir, 'src', 'index.ts');
  let entry: string;
  let entryIsSource: boolean;
  if (fromSource && existsSync(sourceEntry)) [entry, entryIsSource] = [sourceEntry, true];
  else if (existsSync(built)) [entry, entryIsSource] = [built, false];
  else if (existsSync(sourceEntry)) [entry, entryIsSource] = [sourceEntry, true];
  else {
    return {
      dir,
      packageName: pkg.name,
      id: manifest.id,
      message: `${manifest.id}: entry point ${built} does not exist (run the plugin's build)`,
      problems: ['entry point missing'],
    };
  }
  return {
    id: manifest.id,
    manifest,
    dir,
    packageName: pkg.name ?? manifest.id,
    packageVersion: pkg.version ?? '0.0.0',
    source,
    thirdParty: source === 'directory',
    entry,
    entryIsSource,
  };
}

/** Finds plugins in the workspace's `plugins/`, the configured plugins directory and explicit paths (later ones win). */
export function discoverPlugins(options: DiscoveryOptions): DiscoveryResult {
  const plugins = new Map<string, DiscoveredPlugin>();
  const problems: DiscoveryProblem[] = [];
  const candidates: Array<{ dir: string; source: PluginSource }> = [];
  const root = options.workspace ? workspaceRoot() : undefined;
  if (root) for (const dir of packageDirs(join(root, 'plugins'))) candidates.push({ dir, source: 'workspace' });
  if (options.dir) for (const dir of packageDirs(resolve(options.dir))) candidates.push({ dir, source: 'directory' });
  for (const path of options.paths) candidates.push({ dir: resolve(path), source: 'path' });

  for (const candidate of candidates) {
    const result = readPlugin(candidate.dir, candidate.source, options.fromSource);
    if (!result) continue;
    if (!('manifest' in result)) {
      problems.push(result);
      continue;
    }
    const existing = plugins.get(result.id);
    if (existing && candidate.source !== 'path') {
      problems.push({
        dir: result.dir,
        packageName: result.packageName,
        id: result.id,
        message: `Plugin id "${result.id}" is declared by both ${existing.dir} and ${result.dir}; the first one is used`,
        problems: ['duplicate plugin id'],
      });
      continue;
    }
    plugins.set(result.id, result);
  }
  return { plugins, problems };
}
