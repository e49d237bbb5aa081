import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { UnitOfWork } from '../platform/database/unit-of-work.js';
import { BUS, type Bus, type Closable } from '../platform/bus/bus.port.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { APP_CONFIG } from '../platform/config/config.module.js';
import type { AppConfig } from '../platform/config/app-config.js';
import type { EventEnvelope } from '../platform/outbox/outbox.entity.js';
import type { Json } from '../platform/database/entity-columns.js';
import { NlpModelRow } from './entities/nlp-model.entity.js';
import { NlpError } from './nlp.error.js';
import {
  NLP_MODEL_ACTIVATED,
  NLP_MODEL_REGISTERED,
  NLP_PACK_FETCH,
  type NlpModelActivatedEvent,
  type PackFetchReply,
  type PackFetchRequest,
} from './nlp.events.js';
import { buildPack, IMPORT_DIRECTORY_PATTERN, PackError, readPack, sha256, validateManifest, writePack, type Pack, type PackManifest } from './pack.js';
import { OnnxClassifier } from './runtime.js';
import { train } from './trainer.js';
import { DEFAULT_MODELS, type DefaultModelSpec } from './default-data/index.js';
import { isDuplicateKeyError } from '../platform/database/duplicate-key.js';

const CHUNK = 512 * 1024;
const DEFAULT_VERSION = 'default-1';

/** Default packs are deterministic: train each one once per process, however many apps start. */
const defaultPacks = new Map<string, Promise<Pack>>();

/** The default pack `name`, trained from the project's seed data (the same bytes on every run). */
export function buildDefaultPack(name: string): Promise<Pack> {
  const spec = DEFAULT_MODELS.find((candidate) => candidate.name === name);
  if (!spec) return Promise.reject(new Error(`there is no default NLP model named ${name}`));
  let pack = defaultPacks.get(name);
  if (!pack) {
    pack = (async () => {
      const result = await train(spec.examples(), spec.options);
      return buildPack(result.model, {
        name: spec.name,
        task: spec.task,
        version: DEFAULT_VERSION,
        trainingDataHash: result.dataHash,
        metrics: { ...result.metrics, validation: null },
        outOfScopeThreshold: spec.task === 'intent' ? 0.35 : 0,
        createdAt: new Date(0),
        languages: spec.languages,
        description: spec.description,
      });
    })();
    defaultPacks.set(name, pack);
  }
  return pack;
}

export async function buildDefaultPacks(): Promise<Pack[]> {
  const packs: Pack[] = [];
  for (const spec of DEFAULT_MODELS) packs.push(await buildDefaultPack(spec.name));
  return packs;
}

/** Names of the default packs this process has trained (tests check that shipped packs need none). */
export function trainedDefaultPacks(): string[] {
  return [...defaultPacks.keys()];
}

/** Where a default pack registered by this instance came from. */
export type DefaultPackSource = 'shipped' | 'trained';

export interface ModelView {
  id: string;
  name: string;
  version: string;
  task: string;
  status: string;
  sha256: string;
  sizeBytes: number;
  previousVersion: string | null;
  createdAt: string;
  activatedAt: string | null;
  createdBy: string | null;
  metrics: unknown;
  labels: string[];
  outOfScopeThreshold: number;
}

/**
 * Model registry: pack versions in `nlp_models`, files under `<dataDir>/nlp/models/<name>/<version>/`,
 * one live ONNX session per active model name on every instance. Activation is an event
 * (`sb.evt.nlp.model_activated`) that every instance consumes; an instance without the files
 * fetches them in chunks over the bus, checks the sha256, then swaps sessions without a restart.
 */
@Injectable()
export class ModelRegistry implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('nlp-registry');
  private readonly live = new Map<string, OnnxClassifier>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly handles: Closable[] = [];
  private readonly swapListeners = new Set<(name: string, version: string) => void>();
  private readonly sources = new Map<string, DefaultPackSource>();
  private ready: Promise<void> = Promise.resolve();
  private loaded = false;
  private stopping = false;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly uow: UnitOfWork,
  ) {}

  get root(): string {
    return join(this.config.dataDir, 'nlp', 'models');
  }

  private get instanceSubject(): string {
    return `${NLP_PACK_FETCH}.${this.config.instanceId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  }

  async onApplicationBootstrap(): Promise<void> {
    // Where operators drop packs made elsewhere (see importPack); created here so it exists with the core's owner.
    mkdirSync(this.importRoot, { recursive: true });
    this.handles.push(
      await this.bus.consume<EventEnvelope<NlpModelActivatedEvent>>({
        name: 'nlp-model-activated',
        subject: NLP_MODEL_ACTIVATED,
        delivery: 'each-instance',
        handler: async (message) => this.refresh(message.data.data.name),
      }),
    );
    const serve = async (request: PackFetchRequest): Promise<PackFetchReply> => this.serveChunk(request);
    this.handles.push(await this.bus.reply<PackFetchRequest, PackFetchReply>(this.instanceSubject, serve));
    this.handles.push(await this.bus.reply<PackFetchRequest, PackFetchReply>(NLP_PACK_FETCH, serve));
    // Defaults and active models load in the background; annotate() waits for them.
    this.ready = this.loadAll()
      .catch((error: Error) => this.logger.error({ reason: error.message }, 'loading NLP models failed'))
      .finally(() => {
        this.loaded = true;
      });
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.ready;
    await Promise.allSettled([...this.loading.values()]);
    await Promise.allSettled(this.handles.map((h) => h.close()));
    await Promise.allSettled([...this.live.values()].map((m) => m.close()));
    this.live.clear();
  }

  /** Resolves once defaults are registered and active models are loaded. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  /** Whether `whenReady` has resolved: callers that must not wait for the models check this first. */
  get isReady(): boolean {
    return this.loaded;
  }

  onSwap(listener: (name: string, version: string) => void): () => void {
    this.swapListeners.add(listener);
    return () => this.swapListeners.delete(listener);
  }

  private async loadAll(): Promise<void> {
    for (const spec of DEFAULT_MODELS) {
      if (this.stopping) return;
      const existing = await this.dataSource.manager.findOne(NlpModelRow, { where: { name: spec.name } });
      if (existing) continue;
      try {
        await this.registerDefault(spec);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error; // another instance registered it first
      }
    }
    const active = await this.dataSource.manager.find(NlpModelRow, { where: { status: 'active' } });
    for (const row of active) if (!this.stopping) await this.refresh(row.name);
  }

  /** Default packs this instance registered at start, by name, and where each came from. */
  defaultSources(): Record<string, DefaultPackSource> {
    return Object.fromEntries(this.sources);
  }

  /**
   * First start: the pack shipped in `nlp.modelsDir/<name>/` (the appliance bundle's trained
   * defaults) when there is one, registered through the normal validation; otherwise, or when the
   * shipped pack is refused, the pack is trained from the seed data.
   */
  private async registerDefault(spec: DefaultModelSpec): Promise<void> {
    const name = spec.name;
    const shipped = this.shippedPack(spec);
    if (shipped) {
      try {
        await this.register(shipped.pack, null, { activate: true });
        this.sources.set(name, 'shipped');
        this.logger.log({ model: name, version: shipped.pack.manifest.version, dir: shipped.dir }, 'registered the shipped default NLP pack');
        return;
      } catch (error) {
        if (isDuplicateKeyError(error)) throw error;
        this.logger.error({ model: name, dir: shipped.dir, reason: (error as Error).message }, 'the shipped default NLP pack was refused; training it instead');
      }
    }
    await this.register(await buildDefaultPack(name), null, { activate: true });
    this.sources.set(name, 'trained');
  }

  /** The pack under `<modelsDir>/<name>/`, or undefined when none is shipped or it cannot be read. */
  private shippedPack({ name, task }: DefaultModelSpec): { dir: string; pack: Pack } | undefined {
    const root = this.config.nlp?.modelsDir;
    if (!root) return undefined;
    const dir = join(root, name);
    if (!existsSync(join(dir, 'manifest.json'))) return undefined;
    try {
      const pack = readPack(dir);
      if (pack.manifest.name !== name) throw new PackError(`its manifest names "${pack.manifest.name}", not "${name}"`);
      if (pack.manifest.task !== task) throw new PackError(`its task is "${pack.manifest.task}", not "${task}"`);
      return { dir, pack };
    } catch (error) {
      this.logger.error({ model: name, dir, reason: (error as Error).message }, 'the shipped default NLP pack cannot be read; training it instead');
      return undefined;
    }
  }

  /** The live classifier for a name, or undefined. */
  get(name: string): OnnxClassifier | undefined {
    return this.live.get(name);
  }

  liveVersions(): Record<string, string> {
    return Object.fromEntries([...this.live.entries()].map(([name, model]) => [name, model.manifest.version]));
  }

  async list(name?: string): Promise<ModelView[]> {
    const rows = await this.dataSource.manager.find(NlpModelRow, { where: name ? { name } : {}, order: { name: 'ASC', createdAt: 'DESC' } });
    return rows.map((row) => this.view(row));
  }

  view(row: NlpModelRow): ModelView {
    const manifest = row.manifest as unknown as PackManifest;
    return {
      id: row.id,
      name: row.name,
      version: row.version,
      task: row.task,
      status: row.status,
      sha256: row.sha256,
      sizeBytes: row.sizeBytes,
      previousVersion: row.previousVersion,
      createdAt: row.createdAt.toISOString(),
      activatedAt: row.activatedAt ? row.activatedAt.toISOString() : null,
      createdBy: row.createdBy,
      metrics: manifest.metrics ?? null,
      labels: manifest.labels ?? [],
      outOfScopeThreshold: manifest.outOfScopeThreshold,
    };
  }

  private dirOf(name: string, version: string): string {
    const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');
    return join(this.root, safe(name), safe(version));
  }

  /** Where operators put packs made elsewhere for `importPack` (one directory per pack). */
  get importRoot(): string {
    return join(this.config.dataDir, 'nlp', 'import');
  }

  /**
   * Registers a pack made by another tool from `<importRoot>/<directory>` (model.onnx, manifest.json and,
   * for a transformer, vocab.txt): the same checks as any pack, then stored and distributed like one.
   * Only a plain directory name is accepted, so nothing outside the import root is ever read.
   */
  async importPack(directory: string, actorId: string | null, options: { activate?: boolean } = {}): Promise<ModelView> {
    if (!IMPORT_DIRECTORY_PATTERN.test(directory) || directory.includes('..'))
      throw new NlpError('nlp_invalid_pack', 'directory must be the name of a directory in the import root (letters, digits, . _ -)', { field: 'directory' });
    let pack: Pack;
    try {
      pack = readPack(join(this.importRoot, directory));
    } catch (error) {
      throw new NlpError('nlp_invalid_pack', (error as Error).message.replace(this.importRoot, '<import root>'));
    }
    const view = await this.register(pack, actorId, options);
    this.logger.log({ model: view.name, version: view.version, directory }, 'imported a model pack');
    return view;
  }

  /** Stores a pack's files and registers the version; optionally activates it. */
  async register(pack: Pack, actorId: string | null, options: { activate?: boolean } = {}): Promise<ModelView> {
    let manifest: PackManifest;
    try {
      manifest = validateManifest(pack.manifest, pack.onnx);
    } catch (error) {
      throw new NlpError('nlp_invalid_pack', (error as Error).message);
    }
    // Refuse graphs onnxruntime cannot load before anything is stored.
    try {
      await (await OnnxClassifier.load({ manifest, onnx: pack.onnx })).close();
    } catch (error) {
      throw new NlpError('nlp_invalid_pack', `model.onnx does not load: ${(error as Error).message}`);
    }
    const dir = this.dirOf(manifest.name, manifest.version);
    const staging = `${dir}.tmp-${randomUUID().slice(0, 8)}`;
    writePack(staging, { manifest, onnx: pack.onnx });
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, '..'), { recursive: true });
    renameSync(staging, dir);
    const row: NlpModelRow = Object.assign(new NlpModelRow(), {
      id: randomUUID(),
      name: manifest.name,
      version: manifest.version,
      task: manifest.task,
      status: 'available',
      manifest: manifest as unknown as Json,
      sha256: sha256(pack.onnx),
      sizeBytes: pack.onnx.byteLength,
      previousVersion: null,
      sourceInstance: this.config.instanceId,
      createdAt: this.clock.now(),
      activatedAt: null,
      createdBy: actorId,
    });
    await this.uow.run(async (tx) => {
      await tx.manager.insert(NlpModelRow, row);
      await tx.emit({ subject: NLP_MODEL_REGISTERED, id: `nlp-model:${row.id}`, data: { name: row.name, version: row.version, task: row.task } });
    });
    if (options.activate) return this.activate(row.name, row.version, actorId);
    return this.view(row);
  }

  async activate(name: string, version: string, actorId: string | null): Promise<ModelView> {
    const activated = await this.uow.run(async (tx) => {
      const lock = this.uow.isMysql ? { mode: 'pessimistic_write' as const } : undefined;
      const target = await tx.manager.findOne(NlpModelRow, { where: { name, version }, lock });
      if (!target) throw new NlpError('nlp_model_not_found', `There is no model ${name} version ${version}.`, { name, version });
      const current = await tx.manager.findOne(NlpModelRow, { where: { name, status: 'active' }, lock });
      if (current?.id === target.id) return target;
      if (current) await tx.manager.update(NlpModelRow, { id: current.id }, { status: 'available' });
      target.status = 'active';
      target.previousVersion = current?.version ?? null;
      target.activatedAt = this.clock.now();
      await tx.manager.update(NlpModelRow, { id: target.id }, { status: 'active', previousVersion: target.previousVersion, activatedAt: target.activatedAt });
      const event: NlpModelActivatedEvent = {
        name,
        task: target.task,
        version,
        sha256: target.sha256,
        sourceInstance: target.sourceInstance,
        previousVersion: target.previousVersion,
      };
      await tx.emit({ subject: NLP_MODEL_ACTIVATED, id: randomUUID(), data: event });
      void actorId;
      return target;
    });
    // Read-your-writes on this instance; the others follow the event.
    await this.refresh(name);
    return this.view(activated);
  }

  async rollback(name: string, actorId: string | null): Promise<ModelView> {
    const current = await this.dataSource.manager.findOne(NlpModelRow, { where: { name, status: 'active' } });
    if (!current) throw new NlpError('nlp_model_not_found', `No version of ${name} is active.`, { name });
    if (!current.previousVersion)
      throw new NlpError('nlp_no_previous_version', `${name} ${current.version} has no previous version to roll back to.`, { name });
    return this.activate(name, current.previousVersion, actorId);
  }

  /** Loads the version the database says is active for `name` (serialised per name). */
  refresh(name: string): Promise<void> {
    const previous = this.loading.get(name) ?? Promise.resolve();
    const next = previous
      .then(() => this.doRefresh(name))
      .catch((error: Error) => this.logger.error({ model: name, reason: error.message }, 'NLP model load failed'));
    this.loading.set(name, next);
    return next;
  }

  private async doRefresh(name: string): Promise<void> {
    if (this.stopping) return;
    const row = await this.dataSource.manager.findOne(NlpModelRow, { where: { name, status: 'active' } });
    if (!row) return;
    const current = this.live.get(name);
    if (current && current.manifest.version === row.version && current.manifest.modelSha256 === row.sha256) return;
    const pack = await this.localPack(row);
    const next = await OnnxClassifier.load(pack);
    // Swap first, then drain and release the old session: requests never see a gap.
    this.live.set(name, next);
    this.logger.log({ model: name, version: row.version }, 'NLP model active');
    for (const listener of this.swapListeners) listener(name, row.version);
    if (current) void current.close();
  }

  async row(name: string, version: string): Promise<NlpModelRow> {
    const row = await this.dataSource.manager.findOne(NlpModelRow, { where: { name, version } });
    if (!row) throw new NlpError('nlp_model_not_found', `There is no model ${name} version ${version}.`, { name, version });
    return row;
  }

  /** The pack's files from this instance's data dir, fetched over the bus when missing. */
  async localPack(row: NlpModelRow): Promise<Pack> {
    const dir = this.dirOf(row.name, row.version);
    if (existsSync(join(dir, 'model.onnx'))) {
      const pack = readPack(dir);
      if (sha256(pack.onnx) === row.sha256) return pack;
    }
    const onnx = await this.fetchFile(row, 'model.onnx');
    if (sha256(onnx) !== row.sha256) throw new PackError(`fetched ${row.name} ${row.version} does not match its sha256`);
    writePack(dir, { manifest: row.manifest as unknown as PackManifest, onnx });
    return readPack(dir);
  }

  private async fetchFile(row: NlpModelRow, file: PackFetchRequest['file']): Promise<Uint8Array> {
    const sources = [`${NLP_PACK_FETCH}.${row.sourceInstance.replace(/[^A-Za-z0-9_-]/g, '_')}`, NLP_PACK_FETCH, NLP_PACK_FETCH, NLP_PACK_FETCH];
    let lastError: unknown;
    for (const subject of sources) {
      try {
        const chunks: Buffer[] = [];
        let offset = 0;
        for (;;) {
          const reply = await this.bus.request<PackFetchRequest, PackFetchReply>(
            subject,
            { name: row.name, version: row.version, file, offset },
            { timeoutMs: 10_000 },
          );
          if (!reply.found || reply.data === undefined) throw new Error('not found on the replying instance');
          const chunk = Buffer.from(reply.data, 'base64');
          chunks.push(chunk);
          offset += chunk.length;
          if (offset >= (reply.total ?? 0) || chunk.length === 0) break;
        }
        return Buffer.concat(chunks);
      } catch (error) {
        lastError = error;
      }
    }
    throw new NlpError('nlp_model_unavailable', `No instance could provide ${row.name} ${row.version}: ${(lastError as Error)?.message ?? 'unknown'}`);
  }

  private serveChunk(request: PackFetchRequest): PackFetchReply {
    if (!request || (request.file !== 'model.onnx' && request.file !== 'manifest.json')) return { found: false };
    const path = join(this.dirOf(String(request.name), String(request.version)), request.file);
    if (!existsSync(path)) return { found: false };
    const bytes = readFileSync(path);
    const offset = Math.max(0, Number(request.offset) || 0);
    return { found: true, total: bytes.length, data: bytes.subarray(offset, offset + CHUNK).toString('base64') };
  }
}
