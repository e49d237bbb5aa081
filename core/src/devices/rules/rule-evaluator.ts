/**
 * Rule evaluation, one reading at a time: pure functions over a small per-(device, rule)
 * state, so debounce and hysteresis behave the same on every core instance.
 */
export type ReadingValue = number | string | boolean;
export type Quality = 'good' | 'uncertain' | 'bad';

export interface Reading {
  metric: string;
  value: ReadingValue;
  ts: Date;
  quality: Quality;
}

export interface ThresholdParams {
  op: '>' | '>=' | '<' | '<=' | 'outside';
  value?: number;
  min?: number;
  max?: number;
  /** Hysteresis: the value must get back past this to count as recovered (defaults to the threshold). */
  clearValue?: number;
  clearMin?: number;
  clearMax?: number;
}

export interface FaultCodeInfo {
  severity?: 'info' | 'minor' | 'major' | 'critical';
  title?: string;
  articleId?: string;
}

export interface FaultCodeParams {
  codes: Record<string, FaultCodeInfo>;
}

export interface RateParams {
  /** Largest allowed absolute change per second. */
  maxPerSecond: number;
}

export interface StaleParams {
  timeoutSeconds: number;
}

export interface RuleSpec {
  kind: 'threshold' | 'fault_code' | 'rate_of_change' | 'stale';
  metric: string | null;
  params: unknown;
  debounceSamples: number;
  debounceMs: number;
  clearSamples: number;
}

export interface RuleState {
  violations: number;
  clears: number;
  violatingSince: Date | null;
  lastNum: number | null;
  lastTs: Date | null;
  activeCode: string | null;
}

export type Verdict = { kind: 'violating'; code: string | null } | { kind: 'clear' } | { kind: 'hold' } | { kind: 'skip' };
export type Action = 'open' | 'repeat' | 'close' | 'none';

export const emptyState = (): RuleState => ({ violations: 0, clears: 0, violatingSince: null, lastNum: null, lastTs: null, activeCode: null });

const asNumber = (value: ReadingValue): number | null => {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  const parsed = Number(value);
  return value.trim() !== '' && Number.isFinite(parsed) ? parsed : null;
};

/** What one reading says about a rule, before debounce. */
export function judge(rule: RuleSpec, reading: Reading, state: RuleState): Verdict {
  if (rule.metric && rule.metric !== reading.metric) return { kind: 'skip' };
  // A Bad reading tells us nothing about the process value; Uncertain ones are evaluated.
  if (reading.quality === 'bad') return { kind: 'skip' };
  switch (rule.kind) {
    case 'threshold': {
      const value = asNumber(reading.value);
      if (value === null) return { kind: 'skip' };
      return threshold(rule.params as ThresholdParams, value);
    }
    case 'fault_code': {
      const code = String(typeof reading.value === 'number' ? reading.value : reading.value).trim();
      const params = rule.params as FaultCodeParams;
      return Object.prototype.hasOwnProperty.call(params.codes, code) ? { kind: 'violating', code } : { kind: 'clear' };
    }
    case 'rate_of_change': {
      const value = asNumber(reading.value);
      if (value === null) return { kind: 'skip' };
      if (state.lastNum === null || !state.lastTs) return { kind: 'clear' };
      const seconds = (reading.ts.getTime() - state.lastTs.getTime()) / 1000;
      if (seconds <= 0) return { kind: 'skip' };
      const rate = Math.abs(value - state.lastNum) / seconds;
      return rate > (rule.params as RateParams).maxPerSecond ? { kind: 'violating', code: null } : { kind: 'clear' };
    }
    case 'stale':
      // Any reading proves the device is alive; staleness itself is detected by the sweep.
      return { kind: 'clear' };
  }
}

function threshold(params: ThresholdParams, value: number): Verdict {
  const limit = params.value ?? 0;
  switch (params.op) {
    case '>':
    case '>=': {
      const violating = params.op === '>' ? value > limit : value >= limit;
      if (violating) return { kind: 'violating', code: null };
      return value < (params.clearValue ?? limit) || (params.clearValue === undefined && !violating) ? { kind: 'clear' } : { kind: 'hold' };
    }
    case '<':
    case '<=': {
      const violating = params.op === '<' ? value < limit : value <= limit;
      if (violating) return { kind: 'violating', code: null };
      return value > (params.clearValue ?? limit) || (params.clearValue === undefined && !violating) ? { kind: 'clear' } : { kind: 'hold' };
    }
    case 'outside': {
      const min = params.min ?? -Infinity;
      const max = params.max ?? Infinity;
      if (value < min || value > max) return { kind: 'violating', code: null };
      const clearMin = params.clearMin ?? min;
      const clearMax = params.clearMax ?? max;
      return value >= clearMin && value <= clearMax ? { kind: 'clear' } : { kind: 'hold' };
    }
  }
}

/** Applies one reading: returns the next state and what the episode should do. */
export function step(rule: RuleSpec, reading: Reading, state: RuleState, episodeOpen: boolean): { state: RuleState; action: Action; code: string | null } {
  const verdict = judge(rule, reading, state);
  const next: RuleState = { ...state };
  const numeric = asNumber(reading.value);
  if (verdict.kind !== 'skip' && numeric !== null) {
    next.lastNum = numeric;
    next.lastTs = reading.ts;
  }
  switch (verdict.kind) {
    case 'skip':
      return { state, action: 'none', code: state.activeCode };
    case 'violating': {
      // Counters saturate at their threshold, so a steady signal leaves the state unchanged.
      next.violations = Math.min(state.violations + 1, Math.max(1, rule.debounceSamples));
      next.clears = 0;
      next.violatingSince = state.violatingSince ?? reading.ts;
      next.activeCode = verdict.code;
      const debounced = next.violations >= Math.max(1, rule.debounceSamples) && reading.ts.getTime() - next.violatingSince.getTime() >= rule.debounceMs;
      if (!debounced) return { state: next, action: 'none', code: verdict.code };
      return { state: next, action: episodeOpen ? 'repeat' : 'open', code: verdict.code };
    }
    case 'hold':
      next.clears = 0;
      if (!episodeOpen) {
        next.violations = 0;
        next.violatingSince = null;
      }
      return { state: next, action: 'none', code: state.activeCode };
    case 'clear':
      next.clears = Math.min(state.clears + 1, Math.max(1, rule.clearSamples));
      next.violations = 0;
      next.violatingSince = null;
      if (episodeOpen && next.clears >= Math.max(1, rule.clearSamples)) {
        next.activeCode = null;
        return { state: next, action: 'close', code: null };
      }
      return { state: next, action: 'none', code: state.activeCode };
  }
}

/** Checks a rule definition; returns problems (empty when valid). */
export function validateRule(rule: RuleSpec): string[] {
  const problems: string[] = [];
  const params = (rule.params ?? {}) as Record<string, unknown>;
  const num = (key: string) => params[key] === undefined || (typeof params[key] === 'number' && Number.isFinite(params[key]));
  if (rule.kind !== 'stale' && !rule.metric) problems.push('metric is required for this rule kind');
  if (rule.kind === 'threshold') {
    if (!['>', '>=', '<', '<=', 'outside'].includes(String(params.op))) problems.push('params.op must be one of >, >=, <, <=, outside');
    for (const key of ['value', 'min', 'max', 'clearValue', 'clearMin', 'clearMax']) if (!num(key)) problems.push(`params.${key} must be a number`);
    if (params.op === 'outside' && params.min === undefined && params.max === undefined) problems.push('params.min or params.max is required for outside');
    if (params.op !== 'outside' && typeof params.value !== 'number') problems.push('params.value is required');
  }
  if (rule.kind === 'fault_code') {
    if (!params.codes || typeof params.codes !== 'object' || Array.isArray(params.codes) || Object.keys(params.codes).length === 0) {
      problems.push('params.codes must map at least one code to { severity?, title?, articleId? }');
    }
  }
  if (rule.kind === 'rate_of_change' && !(typeof params.maxPerSecond === 'number' && params.maxPerSecond > 0))
    problems.push('params.maxPerSecond must be a positive number');
  if (rule.kind === 'stale' && !(typeof params.timeoutSeconds === 'number' && params.timeoutSeconds >= 1))
    problems.push('params.timeoutSeconds must be at least 1');
  if (!Number.isInteger(rule.debounceSamples) || rule.debounceSamples < 1 || rule.debounceSamples > 10_000)
    problems.push('debounceSamples must be an integer 1–10000');
  if (!Number.isInteger(rule.clearSamples) || rule.clearSamples < 1 || rule.clearSamples > 10_000) problems.push('clearSamples must be an integer 1–10000');
  if (!Number.isInteger(rule.debounceMs) || rule.debounceMs < 0 || rule.debounceMs > 86_400_000) problems.push('debounceMs must be an integer 0–86400000');
  return problems;
}
