/**
 * Rule- and dictionary-based entities for bot slots: order numbers, phones, emails, amounts,
 * dates (absolute and relative, zh + en), plus operator-configured patterns and dictionaries.
 * Offsets are UTF-16 indices into the original text.
 */
export type EntityType = 'order_number' | 'phone' | 'email' | 'amount' | 'date' | 'url' | (string & {});

export interface Entity {
  type: EntityType;
  text: string;
  start: number;
  end: number;
  /** Normalised value: digits for phones, `{ amount, currency }`, ISO date, … */
  value: string | number | { amount: number; currency: string | null };
}

export interface EntityPattern {
  type: string;
  /** Regular expression source; the first capture group (if any) is the value. */
  pattern: string;
  flags?: string;
}

export interface EntityDictionary {
  type: string;
  /** canonical value → synonyms (the canonical value itself matches too). */
  entries: Record<string, string[]>;
}

export interface EntityConfig {
  patterns?: EntityPattern[];
  dictionaries?: EntityDictionary[];
  /** Replaces the default order-number patterns. */
  orderNumberPatterns?: EntityPattern[];
}

const MAX_TEXT = 16_384;

/** Full-width ASCII → ASCII, one UTF-16 unit for one, so offsets stay valid. */
function halfWidth(text: string): string {
  return text.replace(/[\uFF01-\uFF5E]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0)).replace(/\u3000/g, ' ');
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const URL = /\b(?:https?:\/\/|www\.)[^\s<>"'，。]+/gi;
const PHONE = /(?<![\w.])(?:\+?\d{1,3}[\s-]?)?(?:\(\d{2,4}\)[\s-]?)?\d{2,4}(?:[\s-]?\d{3,4}){1,3}(?!\w)(?!\.\d)/g;
const CN_MOBILE = /(?<!\d)1[3-9]\d{9}(?!\d)/g;
const DEFAULT_ORDER: EntityPattern[] = [
  {
    type: 'order_number',
    pattern: '(?:order|订单|单号|订单号|order\\s*(?:no\\.?|number|id|#))\\s*(?:is|是|为)?\\s*[:：#]?\\s*((?=[A-Z-]*\\d)[A-Z0-9][A-Z0-9-]{3,23})',
    flags: 'gi',
  },
  { type: 'order_number', pattern: '(?<![\\w-])([A-Z]{1,4}-?\\d{6,20})(?![\\w-])', flags: 'g' },
];
const AMOUNT_PREFIX = /(?:([¥$€£]|USD|CNY|RMB|EUR|GBP)\s?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?/gi;
const AMOUNT_SUFFIX = /(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s?(元|块钱|块|美元|欧元|英镑|dollars?|euros?|pounds?|usd|rmb|cny|eur)/gi;
const CURRENCY: Record<string, string> = {
  '¥': 'CNY',
  $: 'USD',
  '€': 'EUR',
  '£': 'GBP',
  usd: 'USD',
  cny: 'CNY',
  rmb: 'CNY',
  eur: 'EUR',
  gbp: 'GBP',
  元: 'CNY',
  块: 'CNY',
  块钱: 'CNY',
  美元: 'USD',
  欧元: 'EUR',
  英镑: 'GBP',
  dollar: 'USD',
  dollars: 'USD',
  euro: 'EUR',
  euros: 'EUR',
  pound: 'GBP',
  pounds: 'GBP',
};
const ISO_DATE = /(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)/g;
const ZH_DATE = /(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]/g;
const RELATIVE: Array<[RegExp, number]> = [
  [/\b(?:today|tonight)\b|今天|今日|今晚/gi, 0],
  [/\btomorrow\b|明天|明日/gi, 1],
  [/\byesterday\b|昨天|昨日/gi, -1],
  [/后天|\bday after tomorrow\b/gi, 2],
  [/前天|\bday before yesterday\b/gi, -2],
];

const iso = (y: number, m: number, d: number): string | null => {
  if (m < 1 || m > 12 || d < 1 || d > 31) return null;
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCMonth() === m - 1 ? date.toISOString().slice(0, 10) : null;
};

export class EntityExtractor {
  private readonly patterns: Array<{ type: string; re: RegExp }>;
  private readonly dictionary: Array<{ type: string; value: string; re: RegExp }>;

  constructor(config: EntityConfig = {}) {
    const compile = (p: EntityPattern) => ({ type: p.type, re: new RegExp(p.pattern, (p.flags ?? 'g').includes('g') ? (p.flags ?? 'g') : `${p.flags}g`) });
    this.patterns = [...(config.orderNumberPatterns ?? DEFAULT_ORDER), ...(config.patterns ?? [])].map(compile);
    this.dictionary = (config.dictionaries ?? []).flatMap((d) =>
      Object.entries(d.entries).flatMap(([value, synonyms]) =>
        [value, ...synonyms].map((s) => ({
          type: d.type,
          value,
          re: new RegExp(/^[\w\s]+$/.test(s) ? `\\b${escape(s)}\\b` : escape(s), 'gi'),
        })),
      ),
    );
  }

  extract(input: string, reference: Date = new Date()): Entity[] {
    const raw = typeof input === 'string' ? input.slice(0, MAX_TEXT) : '';
    const text = halfWidth(raw);
    const found: Entity[] = [];
    const add = (type: string, start: number, end: number, value: Entity['value']) => found.push({ type, text: raw.slice(start, end), start, end, value });

    for (const m of text.matchAll(EMAIL)) add('email', m.index, m.index + m[0].length, m[0].toLowerCase());
    for (const m of text.matchAll(URL)) add('url', m.index, m.index + m[0].length, m[0]);
    for (const { type, re } of this.patterns) {
      for (const m of text.matchAll(re)) {
        const value = m[1] ?? m[0];
        const start = m[1] !== undefined ? m.index + m[0].lastIndexOf(m[1]) : m.index;
        add(type, start, start + value.length, type === 'order_number' ? value.toUpperCase() : value);
      }
    }
    for (const { type, value, re } of this.dictionary) for (const m of text.matchAll(re)) add(type, m.index, m.index + m[0].length, value);
    for (const m of text.matchAll(AMOUNT_PREFIX)) {
      add('amount', m.index, m.index + m[0].length, {
        amount: Number(`${m[2].replace(/,/g, '')}.${m[3] ?? 0}`),
        currency: CURRENCY[m[1].toLowerCase()] ?? CURRENCY[m[1]] ?? null,
      });
    }
    for (const m of text.matchAll(AMOUNT_SUFFIX)) {
      add('amount', m.index, m.index + m[0].length, {
        amount: Number(`${m[1].replace(/,/g, '')}.${m[2] ?? 0}`),
        currency: CURRENCY[m[3].toLowerCase()] ?? null,
      });
    }
    for (const m of text.matchAll(ISO_DATE)) {
      const value = iso(Number(m[1]), Number(m[2]), Number(m[3]));
      if (value) add('date', m.index, m.index + m[0].length, value);
    }
    for (const m of text.matchAll(ZH_DATE)) {
      const value = iso(m[1] ? Number(m[1]) : reference.getUTCFullYear(), Number(m[2]), Number(m[3]));
      if (value) add('date', m.index, m.index + m[0].length, value);
    }
    for (const [re, offset] of RELATIVE) {
      for (const m of text.matchAll(re))
        add('date', m.index, m.index + m[0].length, new Date(reference.getTime() + offset * 86_400_000).toISOString().slice(0, 10));
    }
    for (const m of text.matchAll(CN_MOBILE)) add('phone', m.index, m.index + m[0].length, m[0]);
    for (const m of text.matchAll(PHONE)) {
      const digits = m[0].replace(/[^\d+]/g, '');
      const count = digits.replace('+', '').length;
      if (count >= 7 && count <= 15) add('phone', m.index, m.index + m[0].length, digits);
    }
    return resolveOverlaps(found);
  }
}

/** Earlier-listed, then longer, matches win; overlapping ones are dropped. */
const PRIORITY: Record<string, number> = { email: 0, url: 1, order_number: 2, amount: 3, date: 4, phone: 5 };
function resolveOverlaps(entities: Entity[]): Entity[] {
  const ranked = [...entities].sort(
    (a, b) => (PRIORITY[a.type] ?? 2.5) - (PRIORITY[b.type] ?? 2.5) || b.end - b.start - (a.end - a.start) || a.start - b.start,
  );
  const kept: Entity[] = [];
  for (const e of ranked) if (!kept.some((k) => e.start < k.end && k.start < e.end)) kept.push(e);
  return kept.sort((a, b) => a.start - b.start);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
