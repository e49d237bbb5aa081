/**
 * Pure helpers for agent assist: extractive summaries, emotion scores and trends, key facts.
 */
export interface SummaryMessage {
  seq: number;
  direction: 'in' | 'out';
  authorType: string;
  text: string;
  private?: boolean;
}

const SENTENCE = /[^.!?。！？\n]+[.!?。！？]*/gu;
const STOP = new Set(
  'the a an i my me is are was to do does did can could you your of for in on it and or how what please be with there this that have has hi hello thanks thank ok yes no not just so but at by from as we our us will would'.split(
    ' ',
  ),
);
const STOP_ZH = new Set([...'的了吗呢我你是在么吧啊请问好谢您']);

function terms(text: string): string[] {
  const lower = text.toLowerCase().normalize('NFKC');
  const out = (lower.match(/[a-z0-9]+(?:-[a-z0-9]+)*/g) ?? []).filter((w) => !STOP.has(w) && w.length > 1);
  for (const run of lower.match(/\p{Script=Han}+/gu) ?? []) {
    for (let k = 0; k + 1 < run.length; k++) if (!STOP_ZH.has(run[k]) || !STOP_ZH.has(run[k + 1])) out.push(run.slice(k, k + 2));
  }
  return out;
}

/**
 * An extractive summary: the customer's most informative sentences (term weight across the
 * conversation, a bonus for the opening request and for numbers such as order ids), in their
 * original order, plus the agent/bot sentence that answered last when there is one.
 */
export function extractiveSummary(messages: SummaryMessage[], maxSentences = 3): string {
  const sentences: Array<{ text: string; order: number; from: 'customer' | 'other'; terms: string[]; first: boolean }> = [];
  let order = 0;
  let firstCustomer = true;
  for (const message of messages) {
    if (message.private || message.authorType === 'system') continue;
    const from = message.direction === 'in' ? 'customer' : 'other';
    const parts = (message.text ?? '').match(SENTENCE) ?? [];
    for (const raw of parts) {
      const text = raw.trim().replace(/\s+/g, ' ');
      if (text.length < 2) continue;
      sentences.push({
        text: text.length > 200 ? `${text.slice(0, 197)}…` : text,
        order: order++,
        from,
        terms: terms(text),
        first: from === 'customer' && firstCustomer,
      });
    }
    if (from === 'customer' && parts.length) firstCustomer = false;
  }
  const customer = sentences.filter((s) => s.from === 'customer');
  if (!customer.length) return '';
  const df = new Map<string, number>();
  for (const s of customer) for (const t of new Set(s.terms)) df.set(t, (df.get(t) ?? 0) + 1);
  const scored = customer.map((s) => {
    const unique = new Set(s.terms);
    let score = 0;
    for (const t of unique) score += 1 + Math.log(df.get(t) ?? 1);
    score /= Math.sqrt(Math.max(1, unique.size));
    if (s.first) score += 1.5;
    if (/\d{3,}/.test(s.text)) score += 1;
    if (unique.size === 0) score = 0;
    return { ...s, score };
  });
  const picked = scored
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .slice(0, maxSentences)
    .sort((a, b) => a.order - b.order);
  const lines = picked.map((s) => `Customer: ${s.text}`);
  const lastOther = [...sentences].reverse().find((s) => s.from === 'other' && s.order > (picked[0]?.order ?? 0));
  if (lastOther) lines.push(`Last reply: ${lastOther.text}`);
  return lines.join('\n');
}

export type EmotionLabel = 'positive' | 'neutral' | 'negative' | 'anger' | 'anxiety';

export function emotionScore(emotion: string | null | undefined): number {
  switch (emotion) {
    case 'positive':
      return 1;
    case 'negative':
    case 'anxiety':
      return -1;
    case 'anger':
      return -2;
    default:
      return 0;
  }
}

/** `worsening` / `improving` / `stable` from the last messages against the earlier ones. */
export function emotionTrend(emotions: Array<string | null>): {
  trend: 'improving' | 'worsening' | 'stable';
  latest: string | null;
  series: Array<string | null>;
} {
  const series = emotions.slice(-20);
  const latest = series.length ? series[series.length - 1] : null;
  if (series.length < 2) return { trend: 'stable', latest, series };
  const scores = series.map(emotionScore);
  const recent = scores.slice(-2);
  const earlier = scores.slice(0, -2).length ? scores.slice(0, -2) : scores.slice(0, 1);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const delta = avg(recent) - avg(earlier);
  return { trend: delta <= -0.5 ? 'worsening' : delta >= 0.5 ? 'improving' : 'stable', latest, series };
}

/** Compact arrow form for notes: `neutral → negative → anger`. */
export function trendLine(emotions: Array<string | null>): string {
  const out: string[] = [];
  for (const e of emotions) {
    const label = e ?? 'neutral';
    if (out[out.length - 1] !== label) out.push(label);
  }
  return out.join(' → ') || 'neutral';
}
