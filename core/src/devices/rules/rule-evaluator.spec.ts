import { describe, expect, it } from '@jest/globals';
import { emptyState, step, validateRule, type Action, type Reading, type RuleSpec, type RuleState } from './rule-evaluator.js';

const t0 = new Date('2026-11-02T09:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

function run(rule: RuleSpec, values: Array<number | string>, options: { quality?: Reading['quality']; spacing?: number } = {}): Action[] {
  let state: RuleState = emptyState();
  let open = false;
  return values.map((value, index) => {
    const result = step(rule, { metric: rule.metric ?? 'x', value, ts: at(index * (options.spacing ?? 1)), quality: options.quality ?? 'good' }, state, open);
    state = result.state;
    if (result.action === 'open') open = true;
    if (result.action === 'close') open = false;
    return result.action;
  });
}

const threshold = (extra: Partial<RuleSpec> = {}, params: object = { op: '>', value: 80 }): RuleSpec => ({
  kind: 'threshold',
  metric: 'temperature',
  params,
  debounceSamples: 1,
  debounceMs: 0,
  clearSamples: 1,
  ...extra,
});

describe('rule evaluator', () => {
  it('opens once, repeats while violating and closes on recovery', () => {
    expect(run(threshold(), [70, 85, 90, 95, 60])).toEqual(['none', 'open', 'repeat', 'repeat', 'close']);
  });

  it('debounces by consecutive samples', () => {
    expect(run(threshold({ debounceSamples: 3 }), [85, 85, 70, 85, 85, 85])).toEqual(['none', 'none', 'none', 'none', 'none', 'open']);
  });

  it('debounces by duration', () => {
    expect(run(threshold({ debounceMs: 10_000 }), [85, 85, 85, 85], { spacing: 5 })).toEqual(['none', 'none', 'open', 'repeat']);
  });

  it('keeps the episode open inside the hysteresis band', () => {
    const rule = threshold({}, { op: '>', value: 80, clearValue: 75 });
    expect(run(rule, [85, 78, 79, 74])).toEqual(['open', 'none', 'none', 'close']);
  });

  it('needs N clear samples to close', () => {
    expect(run(threshold({ clearSamples: 2 }), [85, 60, 85, 60, 60])).toEqual(['open', 'none', 'repeat', 'none', 'close']);
  });

  it('handles outside ranges', () => {
    expect(run(threshold({}, { op: 'outside', min: 10, max: 20 }), [15, 25, 5, 12])).toEqual(['none', 'open', 'repeat', 'close']);
  });

  it('ignores Bad readings and non-numeric values', () => {
    expect(run(threshold(), [85, 90], { quality: 'bad' })).toEqual(['none', 'none']);
    expect(run(threshold(), ['n/a', 'x'])).toEqual(['none', 'none']);
  });

  it('maps fault codes', () => {
    const rule: RuleSpec = {
      kind: 'fault_code',
      metric: 'fault',
      params: { codes: { E12: { severity: 'major' } } },
      debounceSamples: 1,
      debounceMs: 0,
      clearSamples: 1,
    };
    expect(run(rule, ['0', 'E12', 'E12', '0'])).toEqual(['none', 'open', 'repeat', 'close']);
  });

  it('detects rate of change', () => {
    const rule: RuleSpec = { kind: 'rate_of_change', metric: 'pressure', params: { maxPerSecond: 2 }, debounceSamples: 1, debounceMs: 0, clearSamples: 1 };
    expect(run(rule, [10, 11, 20, 21])).toEqual(['none', 'none', 'open', 'close']);
  });

  it('validates rule definitions', () => {
    expect(validateRule(threshold({}, { op: '!=' }))).toContain('params.op must be one of >, >=, <, <=, outside');
    expect(validateRule(threshold({ debounceSamples: 0 }))).toContain('debounceSamples must be an integer 1–10000');
    expect(validateRule(threshold())).toEqual([]);
  });
});
