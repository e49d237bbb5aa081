/**
 * Training data files: CSV with a header (a `text` column and a `label` or `category` column)
 * or JSONL with `text` and `label` (or `category`/`intent`).
 */
import { readFileSync } from 'node:fs';
import type { TrainExample } from './trainer.js';

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF. */
export function parseCsv(content: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const text = content.charCodeAt(0) === 0xfeff ? content.slice(1) : content;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

export function parseExamples(content: string, format: 'csv' | 'jsonl'): TrainExample[] {
  if (format === 'jsonl') {
    return content
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line, n) => {
        const record = JSON.parse(line) as Record<string, unknown>;
        const label = record.label ?? record.category ?? record.intent;
        if (typeof record.text !== 'string' || typeof label !== 'string') throw new Error(`line ${n + 1}: needs "text" and "label" strings`);
        return { text: record.text, label };
      });
  }
  const [header, ...rows] = parseCsv(content);
  if (!header) throw new Error('the CSV file is empty');
  const names = header.map((h) => h.trim().toLowerCase());
  const textAt = names.indexOf('text');
  const labelAt = names.indexOf('label') >= 0 ? names.indexOf('label') : names.indexOf('category');
  if (textAt < 0 || labelAt < 0) throw new Error('the CSV header needs a "text" column and a "label" or "category" column');
  return rows.filter((r) => r.length > Math.max(textAt, labelAt)).map((r) => ({ text: r[textAt], label: r[labelAt].trim() }));
}

export function readExamples(file: string): TrainExample[] {
  const content = readFileSync(file, 'utf8');
  const format = /\.jsonl?$/i.test(file) || content.trimStart().startsWith('{') ? 'jsonl' : 'csv';
  return parseExamples(content, format);
}
