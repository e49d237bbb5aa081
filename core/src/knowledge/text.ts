/**
 * Text helpers for the knowledge base: answer sanitising (an allow-list of formatting tags),
 * HTML → plain text for channels, a line diff between versions, and a light similarity used
 * to cluster unanswered questions.
 */
import sanitizeHtml from 'sanitize-html';
import type { KbContent } from './entities/knowledge.entity.js';

const ALLOWED: sanitizeHtml.IOptions = {
  allowedTags: [
    'p',
    'br',
    'b',
    'strong',
    'i',
    'em',
    'u',
    's',
    'ul',
    'ol',
    'li',
    'a',
    'code',
    'pre',
    'blockquote',
    'h3',
    'h4',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
  ],
  allowedAttributes: { a: ['href', 'title'] },
  allowedSchemes: ['http', 'https', 'mailto', 'tel'],
  allowProtocolRelative: false,
  transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer' }) },
  disallowedTagsMode: 'discard',
};

/** Answers are rich text: anything outside the allow-list (scripts, styles, event handlers, iframes) is removed. */
export function sanitizeAnswer(html: string): string {
  return sanitizeHtml(html ?? '', { ...ALLOWED, allowedAttributes: { a: ['href', 'title', 'rel'] } }).trim();
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&nbsp;': ' ' };

/** Plain text for chat channels: block tags become line breaks, links keep their target. */
export function htmlToText(html: string): string {
  return (html ?? '')
    .replace(/<a\s[^>]*href="([^"]*)"[^>]*>(.*?)<\/a>/gi, (_m, href: string, label: string) => (label && label !== href ? `${label} (${href})` : href))
    .replace(/<li[^>]*>/gi, '\n- ')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|h3|h4|pre|blockquote|tr|ul|ol)>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (entity) => ENTITIES[entity] ?? entity)
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Looks like HTML? Plain text answers are escaped and paragraphs kept. */
export function toAnswerHtml(answer: string): string {
  if (/<[a-z][\s\S]*>/i.test(answer)) return sanitizeAnswer(answer);
  const escaped = answer.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
  return escaped
    .split(/\n{2,}/)
    .map((p) => `<p>${p.replace(/\n/g, '<br>')}</p>`)
    .join('');
}

/** The text form of a version that diffs are computed over. */
export function contentLines(content: KbContent | null): string[] {
  if (!content) return [];
  return [
    `kind: ${content.kind}`,
    `title: ${content.title}`,
    `language: ${content.language ?? ''}`,
    `audience: ${content.audience}`,
    `tags: ${content.tags.join(', ')}`,
    ...content.questions.map((q) => `question: ${q}`),
    ...htmlToText(content.answer)
      .split('\n')
      .map((line) => `answer: ${line}`),
  ];
}

/** A minimal unified-style line diff (LCS): `-` removed, `+` added, ` ` unchanged lines omitted. */
export function lineDiff(before: string[], after: string[]): string {
  const n = before.length;
  const m = after.length;
  if (n * m > 250_000) return [...before.map((l) => `- ${l}`), ...after.map((l) => `+ ${l}`)].join('\n');
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = before[i] === after[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (before[i] === after[j]) {
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push(`- ${before[i++]}`);
    else out.push(`+ ${after[j++]}`);
  }
  while (i < n) out.push(`- ${before[i++]}`);
  while (j < m) out.push(`+ ${after[j++]}`);
  return out.join('\n');
}

/** Word tokens for Latin text, single characters and bigrams for CJK. */
export function shingles(text: string): Set<string> {
  const lower = (text ?? '').toLowerCase().normalize('NFKC');
  const out = new Set<string>();
  for (const word of lower.match(/[a-z0-9]+/g) ?? []) if (!STOP.has(word)) out.add(word);
  const han = lower.match(/\p{Script=Han}+/gu) ?? [];
  for (const run of han) {
    for (let k = 0; k < run.length; k++) {
      if (!STOP_ZH.has(run[k])) out.add(run[k]);
      if (k + 1 < run.length) out.add(run.slice(k, k + 2));
    }
  }
  return out;
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  if (!a.size || !b.size) return 0;
  let inter = 0;
  for (const t of a) if (b.has(t)) inter++;
  return inter / (a.size + b.size - inter);
}

const STOP = new Set(
  "the a an i my me is are am was to do does did can could you your of for in on at by from as it its and or how what please be with there this that have has we our us will would if so any some i'm im where want like".split(
    ' ',
  ),
);
const STOP_ZH = new Set(['的', '了', '吗', '呢', '我', '你', '是', '在', '么', '吧', '啊', '请', '问']);

/** Greedy single-link clustering by Jaccard similarity; returns groups of indices, largest first. */
export function cluster(texts: string[], threshold = 0.35): number[][] {
  const sets = texts.map(shingles);
  const groups: Array<{ members: number[]; centroid: Set<string> }> = [];
  texts.forEach((_, i) => {
    let best: (typeof groups)[number] | undefined;
    let bestScore = threshold;
    for (const group of groups) {
      const score = Math.max(...group.members.map((k) => jaccard(sets[i], sets[k])));
      if (score >= bestScore) {
        best = group;
        bestScore = score;
      }
    }
    if (best) {
      best.members.push(i);
      for (const t of sets[i]) best.centroid.add(t);
    } else groups.push({ members: [i], centroid: new Set(sets[i]) });
  });
  return groups.map((g) => g.members).sort((a, b) => b.length - a.length);
}
