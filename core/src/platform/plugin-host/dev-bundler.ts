import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { workspaceRoot } from './discovery.js';

/**
 * Development only: bundles TypeScript (a plugin's `src/index.ts`, or the host's own runtime when
 * the core itself runs from source under Jest) into one ESM file with esbuild, so a worker or child
 * process can load it. The SDK is bundled from its source; every other package stays external and
 * resolves from the workspace's node_modules. Production loads the built `dist/` files instead.
 */
export async function bundleTypeScript(entry: string, name: string): Promise<string> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error(`${entry} is TypeScript and esbuild is not installed: build the plugin (npm run build) and load its dist/ instead`);
  }
  const root = workspaceRoot();
  const sdkSource = root ? join(root, 'plugins', 'sdk', 'src') : undefined;
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    sourcemap: 'inline',
    logLevel: 'silent',
    banner: { js: "import { createRequire as __sbCreateRequire } from 'node:module'; const require = __sbCreateRequire(import.meta.url);" },
    plugins: [
      {
        name: 'switchboard-externals',
        setup(build) {
          build.onResolve({ filter: /^[^./]/ }, (args) => {
            if (sdkSource && args.path === '@switchboard/plugin-sdk') return { path: join(sdkSource, 'index.ts') };
            if (sdkSource && args.path === '@switchboard/plugin-sdk/testing') return { path: join(sdkSource, 'testing.ts') };
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  const code = result.outputFiles[0]!.text;
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  // Inside node_modules so that bare imports resolve from the workspace.
  const dir = root ? join(root, 'node_modules', '.cache', 'switchboard-plugins') : join(tmpdir(), 'switchboard-plugins');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name.replace(/[^A-Za-z0-9_-]/g, '_')}-${hash}.mjs`);
  if (!existsSync(file)) {
    const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(temp, code);
    renameSync(temp, file);
  }
  return file;
}
