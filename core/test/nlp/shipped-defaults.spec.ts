/**
 * Default packs shipped with the appliance bundle (`app/models/<name>/`, `SWITCHBOARD_MODELS_DIR`):
 * at first start the registry registers them (normal validation: manifest, sha256, onnxruntime load)
 * instead of training; without them, or for a pack it refuses, it trains the defaults as before.
 *
 * The shipped packs here are trained with another seed and fewer epochs, so their bytes differ from
 * the seed-data defaults: an active default with the shipped file's sha256 can only come from the
 * directory. The tests run in order: the first one must see no training in this process.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp, testConfig, type TestApp } from '../harness/test-app.js';
import { buildDefaultPack, ModelRegistry, trainedDefaultPacks } from '../../src/nlp/registry.service.js';
import { DEFAULT_MODELS } from '../../src/nlp/default-data/index.js';
import { buildPack, writePack } from '../../src/nlp/pack.js';
import { train } from '../../src/nlp/trainer.js';
import { ConfigError } from '../../src/platform/config/config.error.js';
import { BUNDLED_MODELS_DIR } from '../../src/platform/config/config.loader.js';

const NAMES = DEFAULT_MODELS.map((spec) => spec.name);
const fileSha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const json = { 'content-type': 'application/json' };

/** A valid pack per default name, version `default-1`, whose bytes differ from the trained defaults. */
async function shippedDir(names = NAMES): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-shipped-models-'));
  for (const spec of DEFAULT_MODELS.filter((candidate) => names.includes(candidate.name))) {
    const result = await train(spec.examples(), { ...spec.options, maxEpochs: 2, seed: 99 });
    const pack = buildPack(result.model, {
      name: spec.name,
      task: spec.task,
      version: 'default-1',
      trainingDataHash: result.dataHash,
      metrics: {},
      outOfScopeThreshold: spec.task === 'intent' ? 0.35 : 0,
      createdAt: new Date(0),
      description: 'shipped by the test',
    });
    writePack(join(dir, spec.name), pack);
  }
  return dir;
}

interface ModelsBody {
  items: Array<{ name: string; version: string; status: string; sha256: string }>;
  live: Record<string, string>;
}

async function activeDefaults(app: TestApp): Promise<ModelsBody> {
  const admin = { ...json, ...(await app.authHeaders({ roles: ['admin'], sub: 'shipped-admin' })) };
  const response = await fetch(`${app.url}/api/v1/nlp/models`, { headers: admin });
  expect(response.status).toBe(200);
  return (await response.json()) as ModelsBody;
}

describe('shipped default NLP packs', () => {
  const cleanup: string[] = [];
  const apps: TestApp[] = [];
  const start = async (env: Record<string, string>) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-shipped-data-'));
    cleanup.push(dataDir);
    const app = await startTestApp({ env: { SWITCHBOARD_DATA_DIR: dataDir, ...env } });
    apps.push(app);
    await app.app.get(ModelRegistry).whenReady();
    return { app, dataDir };
  };

  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
  });

  it('registers the shipped packs as the active defaults, without training', async () => {
    const models = await shippedDir();
    cleanup.push(models);
    const { app, dataDir } = await start({ SWITCHBOARD_MODELS_DIR: models });
    const registry = app.app.get(ModelRegistry);
    const body = await activeDefaults(app);
    for (const name of NAMES) {
      const shipped = fileSha(join(models, name, 'model.onnx'));
      expect(body.items).toContainEqual(expect.objectContaining({ name, version: 'default-1', status: 'active', sha256: shipped }));
      expect(body.live[name]).toBe('default-1');
      expect(registry.get(name)!.manifest.modelSha256).toBe(shipped);
      expect(registry.get(name)!.manifest.description).toBe('shipped by the test');
      // Stored like any registered pack, in the data directory.
      expect(fileSha(join(dataDir, 'nlp', 'models', name, 'default-1', 'model.onnx'))).toBe(shipped);
    }
    expect(registry.defaultSources()).toEqual({ intent: 'shipped', emotion: 'shipped', language: 'shipped' });
    expect(trainedDefaultPacks()).toEqual([]);
  });

  it('without a models directory trains the defaults as before', async () => {
    expect(testConfig().nlp?.modelsDir).toBe(undefined); // a development checkout has no bundled app/models
    const { app } = await start({});
    const registry = app.app.get(ModelRegistry);
    const body = await activeDefaults(app);
    for (const name of NAMES) {
      const trained = await buildDefaultPack(name);
      expect(body.items).toContainEqual(
        expect.objectContaining({ name, version: 'default-1', status: 'active', sha256: createHash('sha256').update(trained.onnx).digest('hex') }),
      );
      expect(body.live[name]).toBe('default-1');
    }
    expect(registry.defaultSources()).toEqual({ intent: 'trained', emotion: 'trained', language: 'trained' });
    expect(trainedDefaultPacks().sort()).toEqual([...NAMES].sort());
  });

  it('trains the packs the directory lacks and those it refuses (damaged model.onnx, a graph onnxruntime cannot load)', async () => {
    const models = await shippedDir(['intent', 'emotion']);
    cleanup.push(models);
    // emotion: bytes that do not match the manifest's modelSha256.
    const onnx = join(models, 'emotion', 'model.onnx');
    writeFileSync(onnx, Buffer.concat([readFileSync(onnx), Buffer.from('tampered')]));
    const { app } = await start({ SWITCHBOARD_MODELS_DIR: models });
    const registry = app.app.get(ModelRegistry);
    expect(registry.defaultSources()).toEqual({ intent: 'shipped', emotion: 'trained', language: 'trained' });
    const body = await activeDefaults(app);
    expect(body.items).toContainEqual(expect.objectContaining({ name: 'intent', status: 'active', sha256: fileSha(join(models, 'intent', 'model.onnx')) }));
    for (const name of ['emotion', 'language']) {
      const trained = createHash('sha256')
        .update((await buildDefaultPack(name)).onnx)
        .digest('hex');
      expect(body.items).toContainEqual(expect.objectContaining({ name, status: 'active', sha256: trained }));
    }

    // A manifest whose sha256 matches bytes that are not an ONNX graph: refused by the onnxruntime load.
    const garbage = mkdtempSync(join(tmpdir(), 'sb-shipped-models-'));
    cleanup.push(garbage);
    const language = await buildDefaultPack('language');
    const bogus = Buffer.from('not an onnx graph');
    writePack(join(garbage, 'language'), {
      manifest: { ...language.manifest, modelSha256: createHash('sha256').update(bogus).digest('hex') },
      onnx: bogus,
    });
    const second = await start({ SWITCHBOARD_MODELS_DIR: garbage });
    expect(second.app.app.get(ModelRegistry).defaultSources()).toEqual({ intent: 'trained', emotion: 'trained', language: 'trained' });
  });

  it('refuses at boot a SWITCHBOARD_MODELS_DIR that is not a directory', () => {
    const missing = join(tmpdir(), `sb-no-such-models-${process.pid}`);
    expect(() => testConfig({ SWITCHBOARD_MODELS_DIR: missing })).toThrow(ConfigError);
    expect(() => testConfig({ SWITCHBOARD_MODELS_DIR: missing })).toThrow(/SWITCHBOARD_MODELS_DIR .* not a directory/);
    expect(BUNDLED_MODELS_DIR).toMatch(/\/models$/);
  });
});
