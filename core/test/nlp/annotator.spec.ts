import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildDefaultPacks } from '../../src/nlp/registry.service.js';
import { OnnxClassifier } from '../../src/nlp/runtime.js';
import { annotateText, type AnnotatorModels } from '../../src/nlp/annotator.js';
import { GARBAGE } from './fixtures.js';

describe('default models and garbage input', () => {
  let models: AnnotatorModels;
  let all: OnnxClassifier[];

  beforeAll(async () => {
    const packs = await buildDefaultPacks();
    for (const pack of packs) expect(pack.onnx.byteLength).toBeLessThan(5_000_000);
    all = await Promise.all(packs.map((p) => OnnxClassifier.load(p)));
    const byName = Object.fromEntries(all.map((m) => [m.manifest.name, m]));
    models = { intent: byName.intent, emotion: byName.emotion, language: byName.language };
  });

  afterAll(async () => {
    await Promise.all(all.map((m) => m.close()));
  });

  it.each(Object.entries(GARBAGE))('%s: deterministic, low confidence, bounded time', async (_name, text) => {
    const started = Date.now();
    const a = await annotateText(text, models, { now: new Date('2026-01-01T00:00:00Z') });
    const b = await annotateText(text, models, { now: new Date('2026-01-01T00:00:00Z') });
    // Generous bound: the point is "no pathological blow-up", not a benchmark.
    expect(Date.now() - started).toBeLessThan(3000);
    expect(b).toEqual(a);
    if (a.intent !== null) expect(a.intentConfidence).toBeGreaterThanOrEqual(models.intent!.manifest.outOfScopeThreshold);
    expect(a.outOfScope || (a.intentConfidence ?? 0) < 0.95).toBe(true);
  });

  it('handles 100 KB of a real request in bounded time, deterministically', async () => {
    const text = 'refund please '.repeat(8000);
    const a = await annotateText(text, models);
    expect(await annotateText(text, models)).toEqual(a);
    expect(a.intent).toBe('refund_request');
  });

  it('gives a fixed answer for input without letters or digits', async () => {
    for (const text of [GARBAGE.empty, GARBAGE.zeroWidth, GARBAGE.emojiOnly, GARBAGE.control]) {
      const a = await annotateText(text, models);
      expect(a).toMatchObject({ language: null, intent: null, intentConfidence: 0, outOfScope: true, sentiment: 'neutral' });
    }
  });

  it('annotates zh and en messages', async () => {
    const en = await annotateText('Where is my order? It is 2 weeks late, I am really worried', models);
    expect(en.language).toBe('en');
    expect(en.intent).toBe('order_status');
    expect(en.sentiment).toBe('negative');
    expect(en.anxiety).toBe(true);
    const zh = await annotateText('什么破服务，气死我了，马上给我退款！', models);
    expect(zh.language).toBe('zh');
    expect(zh.intent).toBe('refund_request');
    expect(zh.anger).toBe(true);
    expect(zh.sentiment).toBe('negative');
    const happy = await annotateText('谢谢，问题解决了，非常满意', models);
    expect(happy.sentiment).toBe('positive');
  });

  it('identifies zh, en, ja, ko, de, fr, es', async () => {
    const cases: Array<[string, string]> = [
      ['请问你们几点关门', 'zh'],
      ['請問你們幾點關門', 'zh'],
      ['Could you tell me when you close today?', 'en'],
      ['今日は何時に閉まりますか', 'ja'],
      ['오늘 몇 시에 문을 닫나요', 'ko'],
      ['Wann schließen Sie heute? Ich brauche die Rechnung', 'de'],
      ["À quelle heure fermez-vous aujourd'hui ? Je voudrais ma facture", 'fr'],
      ['¿A qué hora cierran hoy? Necesito mi factura', 'es'],
    ];
    for (const [text, language] of cases) expect([text, (await annotateText(text, models)).language]).toEqual([text, language]);
  });
});
