/**
 * Flow editor support: validation with the line and column of each problem (for an editor to
 * show inline), and a dry run that walks a flow with scripted customer messages and simulated
 * call results. Nothing is stored and nothing is called: a dry run never leaves the process.
 */
import { LineCounter, parseDocument } from 'yaml';
import { evaluate, localise, parseFlowSource, renderDeep, renderTemplate, validateFlow } from './flow.js';
import type { AskStep, Branch, FlowDefinition, FlowStep, LocalText } from './bot.types.js';

export interface FlowProblem {
  message: string;
  /** Where in the definition, e.g. `steps[1].slot` (absent for syntax errors). */
  path?: string;
  /** 1-based position in the source, when it could be located. */
  line?: number;
  column?: number;
}

export interface FlowCheck {
  valid: boolean;
  format: 'json' | 'yaml';
  problems: FlowProblem[];
  /** The parsed definition when it is valid. */
  definition?: FlowDefinition;
}

type PathPart = string | number;

/** Parses and validates a flow source; every problem carries its position when it can be found. */
export function checkFlowSource(source: string, format: 'json' | 'yaml'): FlowCheck {
  let raw: unknown;
  try {
    raw = parseFlowSource(source, format);
  } catch (error) {
    return { valid: false, format, problems: [syntaxProblem(source, format, error as Error)] };
  }
  const messages = validateFlow(raw);
  if (!messages.length) return { valid: true, format, problems: [], definition: raw as FlowDefinition };
  const locate = locator(source);
  return {
    valid: false,
    format,
    problems: messages.slice(0, 50).map((message) => {
      const path = pathOf(message);
      return {
        message,
        ...(path
          ? {
              path: path
                .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
                .join('')
                .replace(/^\./, ''),
            }
          : {}),
        ...locate(path),
      };
    }),
  };
}

function syntaxProblem(source: string, format: 'json' | 'yaml', error: Error): FlowProblem {
  const first = error.message.split('\n')[0]!.slice(0, 300);
  const linePos = (error as { linePos?: Array<{ line: number; col: number }> }).linePos;
  if (linePos?.[0]) return { message: `YAML: ${first.replace(/ at line \d+, column \d+:?$/, '')}`, line: linePos[0].line, column: linePos[0].col };
  const lineCol = /line (\d+) column (\d+)/.exec(error.message);
  if (lineCol) return { message: `${format.toUpperCase()}: ${first}`, line: Number(lineCol[1]), column: Number(lineCol[2]) };
  const position = /position (\d+)/.exec(error.message);
  if (position) {
    const offset = Math.min(Number(position[1]), source.length);
    const before = source.slice(0, offset).split('\n');
    return { message: `${format.toUpperCase()}: ${first}`, line: before.length, column: before.at(-1)!.length + 1 };
  }
  // Some engines give no position for JSON errors: JSON is YAML, so ask the YAML parser where it fails.
  const fallback = parseDocument(source, { lineCounter: new LineCounter() }).errors[0]?.linePos?.[0];
  return { message: `${format.toUpperCase()}: ${first}`, ...(fallback ? { line: fallback.line, column: fallback.col } : {}) };
}

/**
 * The definition path a validation message is about: `steps[2] (lookup).http.url must …` →
 * ['steps', 2, 'http', 'url']; `trigger.intents must …` → ['trigger', 'intents'].
 */
export function pathOf(message: string): PathPart[] | null {
  const match = /^([A-Za-z]+)((?:\[\d+\])?)(?: \([^)]*\))?((?:\.[A-Za-z]+|\[\d+\])*)/.exec(message);
  if (!match) return null;
  const parts: PathPart[] = [match[1]!];
  for (const piece of `${match[2]}${match[3]}`.match(/\.[A-Za-z]+|\[\d+\]/g) ?? [])
    parts.push(piece.startsWith('[') ? Number(piece.slice(1, -1)) : piece.slice(1));
  return parts;
}

/** Finds the source position of a path (the deepest part of it that exists). JSON is YAML too. */
function locator(source: string): (path: PathPart[] | null) => { line?: number; column?: number } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter });
  return (path) => {
    if (!path || doc.errors.length) return {};
    for (let length = path.length; length > 0; length--) {
      const node = doc.getIn(path.slice(0, length), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) {
        const { line, col } = lineCounter.linePos(node.range[0]);
        return { line, column: col };
      }
    }
    return {};
  };
}

// ---------------------------------------------------------------- dry run

export interface DryRunInput {
  /** The customer's messages: the first one starts the flow, each next one answers the step that waits. */
  messages: string[];
  /** Simulated call results by result name: `{ order: { ok: true, httpStatus: 200, data: { status: 'shipped' } } }`. */
  results?: Record<string, unknown>;
  language?: string;
}

export interface DryRunStep {
  turn: number;
  stepId: string;
  type: FlowStep['type'];
  /** What happened, in words: the slot filled, the branch taken, the request that would be sent. */
  note: string;
}

export interface DryRun {
  /** Whether the first message contains one of the trigger phrases (intents are not evaluated here). */
  triggerPhraseMatched: boolean | null;
  transcript: Array<{ from: 'customer' | 'bot'; text: string }>;
  trace: DryRunStep[];
  slots: Record<string, string>;
  results: Record<string, unknown>;
  /** `waiting` for an answer to `stepId`, `done`, or `handover`. */
  outcome: 'waiting' | 'done' | 'handover';
  stepId: string | null;
}

const MAX_STEPS_PER_TURN = 50;

/**
 * Walks a valid flow like the bot's runtime does (slot pre-fill from the first message, ask /
 * call / branch / set / reply / handover, `onFail`, `onError`, `end`), with `extract` validating
 * answers (the runtime's entity extractor and pattern) and calls answered from `input.results`.
 */
export function dryRunFlow(flow: FlowDefinition, input: DryRunInput, extract: (step: AskStep, text: string) => string | null): DryRun {
  const language = input.language ?? 'en';
  const slots: Record<string, string> = {};
  const results: Record<string, unknown> = {};
  const transcript: DryRun['transcript'] = [];
  const trace: DryRunStep[] = [];
  const context = () => ({ slots, results, contact: { language } });
  const say = (text: LocalText | undefined) => {
    const rendered = renderTemplate(localise(text ?? '', language), context());
    if (rendered) transcript.push({ from: 'bot', text: rendered });
  };
  const indexOf = (id: string) => flow.steps.findIndex((s) => s.id === id);
  const first = input.messages[0] ?? '';
  const phrases = flow.trigger?.phrases ?? [];
  const triggerPhraseMatched = phrases.length ? phrases.some((p) => first.toLowerCase().includes(p.toLowerCase())) : null;

  let stepId: string | null = flow.start ?? flow.steps[0]!.id;
  let attempts = 0;
  transcript.push({ from: 'customer', text: first });
  for (const step of flow.steps) {
    if (step.type !== 'ask') continue;
    const value = extract(step, first);
    if (value) {
      slots[step.slot] = value;
      trace.push({ turn: 0, stepId: step.id, type: 'ask', note: `${step.slot} = "${value}" (from the first message)` });
    }
  }

  const goto = (target: string | undefined, current: FlowStep): boolean => {
    if (target === 'handover') return false;
    const next = target ?? flow.steps[indexOf(current.id) + 1]?.id;
    if (!next) return false;
    if (next !== current.id) attempts = 0;
    stepId = next;
    return true;
  };
  const branchOf = (branches: Branch[]) => branches.find((b) => evaluate(b.when, context()))?.goto;

  /** Runs until the flow waits, ends or hands over. */
  const run = (turn: number, answer: string | null): DryRun['outcome'] => {
    for (let guard = 0; guard < MAX_STEPS_PER_TURN; guard++) {
      const step = stepId === null ? undefined : flow.steps[indexOf(stepId)];
      if (!step) return 'done';
      const note = (text: string) => trace.push({ turn, stepId: step.id, type: step.type, note: text });
      switch (step.type) {
        case 'ask': {
          if (slots[step.slot] !== undefined) {
            if (!goto(step.next, step)) return 'done';
            continue;
          }
          if (answer !== null) {
            const value = extract(step, answer);
            answer = null;
            if (value) {
              slots[step.slot] = value;
              note(`${step.slot} = "${value}"`);
              if (!goto(step.next, step)) return 'done';
              continue;
            }
            attempts++;
            note(`invalid answer (attempt ${attempts} of ${step.maxAttempts ?? 3})`);
            if (attempts >= (step.maxAttempts ?? 3)) {
              if (!step.onFail || step.onFail === 'handover') {
                note('attempts used up: hand-over');
                return 'handover';
              }
              stepId = step.onFail;
              attempts = 0;
              continue;
            }
            say(step.invalid ?? step.prompt);
            return 'waiting';
          }
          say(step.prompt);
          note(`asks for ${step.slot}`);
          return 'waiting';
        }
        case 'call': {
          const simulated = input.results?.[step.result];
          const result = simulated && typeof simulated === 'object' ? simulated : { ok: true, httpStatus: 200, data: {} };
          if (step.http) {
            const url = renderTemplate(step.http.url, context(), true);
            note(
              `${step.http.method ?? 'GET'} ${url} (not sent)${simulated ? '' : '; no simulated result given, assumed { ok: true, httpStatus: 200, data: {} }'}`,
            );
          } else {
            const params = JSON.stringify(renderDeep((step.plugin as { params?: unknown } | undefined)?.params ?? {}, context()));
            note(`plugin call ${JSON.stringify(step.plugin ? { ...step.plugin, params: undefined } : {})} with ${params} (not sent)`);
          }
          results[step.result] = result;
          const failed = (result as { ok?: unknown }).ok === false && Boolean((result as { error?: unknown }).error);
          if (failed) {
            if (!step.onError || step.onError === 'handover') {
              note('call failed: hand-over');
              return 'handover';
            }
            stepId = step.onError;
            continue;
          }
          const next = Array.isArray(step.next) ? branchOf(step.next) : step.next;
          if (Array.isArray(step.next)) note(next ? `branch → ${next}` : 'no branch matched: next step');
          if (!goto(next, step)) return 'done';
          continue;
        }
        case 'branch': {
          const next = branchOf(step.branches) ?? step.default;
          note(next ? `→ ${next}` : 'no branch matched: next step');
          if (!goto(next, step)) return 'done';
          continue;
        }
        case 'set': {
          for (const [slot, template] of Object.entries(step.slots)) slots[slot] = renderTemplate(String(template), context());
          note(`set ${Object.keys(step.slots).join(', ')}`);
          if (!goto(step.next, step)) return 'done';
          continue;
        }
        case 'reply': {
          say(step.text);
          note(step.end ? 'reply, end' : 'reply');
          if (step.end || !goto(step.next, step)) return 'done';
          continue;
        }
        case 'handover':
          say(step.text);
          note('hand-over to an agent');
          return 'handover';
      }
    }
    trace.push({ turn, stepId: stepId ?? '', type: 'handover', note: `more than ${MAX_STEPS_PER_TURN} steps in one turn: hand-over` });
    return 'handover';
  };

  let outcome = run(0, null);
  for (let turn = 1; turn < input.messages.length && outcome === 'waiting'; turn++) {
    transcript.push({ from: 'customer', text: input.messages[turn]! });
    outcome = run(turn, input.messages[turn]!);
  }
  return { triggerPhraseMatched, transcript, trace, slots, results, outcome, stepId: outcome === 'done' ? null : stepId };
}

/** The runtime's answer extraction: the entity extractor's value (checked by the pattern), or the pattern alone. */
export function extractWith(entities: (text: string) => Array<{ type: string; value: unknown }>): (step: AskStep, text: string) => string | null {
  return (step, text) => {
    if (step.entity) {
      const entity = entities(text).find((e) => e.type === step.entity);
      if (!entity) return null;
      const value = typeof entity.value === 'object' ? JSON.stringify(entity.value) : String(entity.value);
      if (step.pattern && !new RegExp(step.pattern, 'u').test(value)) return null;
      return value;
    }
    if (step.pattern) {
      const m = new RegExp(step.pattern, 'u').exec(text);
      if (m) return (m[1] ?? m[0]).trim();
    }
    return null;
  };
}
