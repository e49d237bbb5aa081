/**
 * Import and export of knowledge entries as JSON, CSV (RFC 4180; question variants separated by
 * " | ", tags by ";") or Markdown (one `## title` section per entry with a metadata comment,
 * a **Questions** list and an **Answer**).
 */
import { htmlToText } from './text.js';
import type { KbAudience, KbKind, KbStatus } from './entities/knowledge.entity.js';
import type { KbFormat } from './knowledge.types.js';

export interface PortableEntry {
  id?: string;
  kind?: KbKind;
  title?: string;
  questions: string[];
  answer: string;
  language?: string | null;
  tags?: string[];
  audience?: KbAudience;
  status?: KbStatus;
}

const CSV_COLUMNS = ['id', 'kind', 'title', 'questions', 'answer', 'language', 'tags', 'audience', 'status'] as const;

function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const input = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (quoted) {
      if (ch === '"' && input[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && input[i + 1] === '\n') i++;
      row.push(cell);
      cell = '';
      if (row.some((c) => c !== '')) rows.push(row);
      row = [];
    } else cell += ch;
  }
  row.push(cell);
  if (row.some((c) => c !== '')) rows.push(row);
  return rows;
}

export function exportEntries(entries: PortableEntry[], format: KbFormat, kbId: string): string {
  if (format === 'json') return JSON.stringify({ kbId, entries }, null, 2);
  if (format === 'csv') {
    const lines = [CSV_COLUMNS.join(',')];
    for (const e of entries) {
      lines.push(
        [
          e.id ?? '',
          e.kind ?? 'faq',
          e.title ?? '',
          e.questions.join(' | '),
          e.answer,
          e.language ?? '',
          (e.tags ?? []).join(';'),
          e.audience ?? 'public',
          e.status ?? 'draft',
        ]
          .map((v) => csvCell(String(v)))
          .join(','),
      );
    }
    return lines.join('\r\n') + '\r\n';
  }
  const parts = [`# Knowledge base: ${kbId}`, ''];
  for (const e of entries) {
    const meta = {
      id: e.id,
      kind: e.kind ?? 'faq',
      language: e.language ?? null,
      tags: e.tags ?? [],
      audience: e.audience ?? 'public',
      status: e.status ?? 'draft',
    };
    parts.push(`## ${(e.title || e.questions[0] || '').replace(/\n/g, ' ')}`, `<!-- kb: ${JSON.stringify(meta)} -->`, '', '**Questions**', '');
    for (const q of e.questions) parts.push(`- ${q.replace(/\n/g, ' ')}`);
    parts.push('', '**Answer**', '', htmlToText(e.answer), '');
  }
  return parts.join('\n');
}

export function importEntries(content: string, format: KbFormat): PortableEntry[] {
  if (typeof content !== 'string' || !content.trim()) throw new Error('the content is empty');
  if (format === 'json') {
    const parsed = JSON.parse(content) as unknown;
    const list = Array.isArray(parsed) ? parsed : (parsed as { entries?: unknown })?.entries;
    if (!Array.isArray(list)) throw new Error('JSON must be an array of entries or { "entries": [...] }');
    return list.map((raw, i) => normalise(raw as Record<string, unknown>, `entries[${i}]`));
  }
  if (format === 'csv') {
    const [header, ...rows] = parseCsv(content);
    if (!header) throw new Error('the CSV has no header row');
    const names = header.map((h) => h.trim().toLowerCase());
    for (const required of ['questions', 'answer']) if (!names.includes(required)) throw new Error(`the CSV needs a "${required}" column`);
    return rows.map((cells, i) => {
      const get = (name: string) => {
        const k = names.indexOf(name);
        return k >= 0 ? (cells[k] ?? '').trim() : '';
      };
      return normalise(
        {
          id: get('id') || undefined,
          kind: get('kind') || undefined,
          title: get('title') || undefined,
          questions: get('questions')
            .split(/\s*\|\s*/)
            .filter(Boolean),
          answer: get('answer'),
          language: get('language') || null,
          tags: get('tags')
            .split(/\s*;\s*/)
            .filter(Boolean),
          audience: get('audience') || undefined,
          status: get('status') || undefined,
        },
        `row ${i + 2}`,
      );
    });
  }
  const sections = content.split(/^## /m).slice(1);
  if (!sections.length) throw new Error('Markdown needs one "## title" section per entry');
  return sections.map((section, i) => {
    const lines = section.split('\n');
    const title = lines[0].trim();
    const body = lines.slice(1).join('\n');
    const metaMatch = /<!--\s*kb:\s*(\{.*?\})\s*-->/.exec(body);
    let meta: Record<string, unknown> = {};
    if (metaMatch) {
      try {
        meta = JSON.parse(metaMatch[1]) as Record<string, unknown>;
      } catch {
        throw new Error(`section ${i + 1}: the kb metadata comment is not valid JSON`);
      }
    }
    const questionsBlock = /\*\*Questions\*\*\s*\n([\s\S]*?)(?=\*\*Answer\*\*|$)/.exec(body)?.[1] ?? '';
    const questions = questionsBlock
      .split('\n')
      .map((l) => /^\s*[-*]\s+(.+)$/.exec(l)?.[1]?.trim())
      .filter((q): q is string => Boolean(q));
    const answer = /\*\*Answer\*\*\s*\n([\s\S]*)$/.exec(body)?.[1]?.trim() ?? '';
    return normalise({ ...meta, title, questions: questions.length ? questions : [title], answer }, `section ${i + 1}`);
  });
}

function normalise(raw: Record<string, unknown>, where: string): PortableEntry {
  if (!raw || typeof raw !== 'object') throw new Error(`${where}: must be an object`);
  const questions = Array.isArray(raw.questions) ? raw.questions.filter((q): q is string => typeof q === 'string' && q.trim() !== '').map((q) => q.trim()) : [];
  const title = typeof raw.title === 'string' ? raw.title.trim() : '';
  if (!questions.length && !title) throw new Error(`${where}: needs a title or at least one question`);
  if (typeof raw.answer !== 'string' || !raw.answer.trim()) throw new Error(`${where}: needs an answer`);
  const kind = raw.kind === 'article' ? 'article' : 'faq';
  const audience = raw.audience === 'internal' ? 'internal' : 'public';
  const status = raw.status === 'published' ? 'published' : raw.status === 'archived' ? 'archived' : 'draft';
  return {
    id: typeof raw.id === 'string' && raw.id ? raw.id : undefined,
    kind,
    title: title || questions[0],
    questions: questions.length ? questions : [title],
    answer: raw.answer,
    language: typeof raw.language === 'string' && raw.language ? raw.language : null,
    tags: Array.isArray(raw.tags) ? raw.tags.filter((t): t is string => typeof t === 'string') : [],
    audience,
    status,
  };
}
