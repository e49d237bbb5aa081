/**
 * Content-type detection from a file's first bytes, never from the client's word. Returns the
 * detected type, `text/html` / `image/svg+xml` / `application/xml` for markup (never allowed), or
 * null for bytes it does not recognise.
 */
export function sniffContentType(bytes: Buffer): string | null {
  const starts = (signature: number[], offset = 0) =>
    bytes.length >= offset + signature.length && signature.every((byte, index) => bytes[offset + index] === byte);
  const ascii = (text: string, offset = 0) => bytes.length >= offset + text.length && bytes.toString('latin1', offset, offset + text.length) === text;
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (ascii('GIF87a') || ascii('GIF89a')) return 'image/gif';
  if (ascii('RIFF') && ascii('WEBP', 8)) return 'image/webp';
  if (ascii('%PDF-')) return 'application/pdf';
  if (starts([0x50, 0x4b, 0x03, 0x04]) || starts([0x50, 0x4b, 0x05, 0x06])) return 'application/zip';
  if (ascii('ID3') || starts([0xff, 0xfb]) || starts([0xff, 0xf3]) || starts([0xff, 0xf2])) return 'audio/mpeg';
  if (ascii('ftyp', 4)) return 'video/mp4';
  return sniffText(bytes);
}

const MARKUP = /^\s*(?:<\?xml|<!doctype\s+html|<html|<head|<body|<script|<svg|<iframe|<!--|<\w+[\s>/])/i;

/** UTF-8 text without NUL or other binary control bytes; markup is reported as such. */
function sniffText(bytes: Buffer): string | null {
  const sample = bytes.subarray(0, 64 * 1024);
  if (sample.length === 0) return 'text/plain';
  const text = new TextDecoder('utf-8', { fatal: false }).decode(sample);
  // Control characters other than tab, LF, FF, CR and ESC (coloured logs) mean binary.
  // eslint-disable-next-line no-control-regex -- detecting control characters is the point
  if (/[\u0000-\u0008\u000b\u000e-\u001a\u001c-\u001f\ufffd]/.test(text.slice(0, text.length - 3))) return null;
  const head = text.replace(/^\ufeff/, '').slice(0, 1024);
  if (MARKUP.test(head)) return /<svg/i.test(text.slice(0, 4096)) ? 'image/svg+xml' : /^\s*<\?xml/i.test(head) ? 'application/xml' : 'text/html';
  return 'text/plain';
}

/** Container types whose declared subtype the sniffer cannot check more precisely. */
const COMPATIBLE: Record<string, readonly string[]> = {
  'application/zip': [
    'application/zip',
    'application/x-zip-compressed',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  ],
  'text/plain': ['text/plain', 'text/csv'],
  'image/jpeg': ['image/jpeg', 'image/jpg', 'image/pjpeg'],
  'audio/mpeg': ['audio/mpeg', 'audio/mp3'],
  'video/mp4': ['video/mp4', 'audio/mp4'],
};

/** What a client sends when it does not know: no claim to check. */
const UNKNOWN_DECLARED = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

export type Resolution = { ok: true; contentType: string } | { ok: false; reason: 'not_allowed' | 'mismatch'; sniffed: string | null };

/**
 * Decides the stored content type: the sniffed type, refined by the declared one when the bytes
 * are a container the declaration narrows (a .docx is a zip, a .csv is text). A declared type the
 * bytes contradict is a mismatch; a type outside the allow-list is refused.
 */
export function resolveContentType(bytes: Buffer, declared: string | undefined, allowed: readonly string[]): Resolution {
  const sniffed = sniffContentType(bytes);
  const claim = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  if (!sniffed) return { ok: false, reason: 'not_allowed', sniffed };
  let contentType = sniffed;
  if (!UNKNOWN_DECLARED.has(claim)) {
    const family = COMPATIBLE[sniffed] ?? [sniffed];
    if (!family.includes(claim)) return { ok: false, reason: allowed.includes(sniffed) ? 'mismatch' : 'not_allowed', sniffed };
    if (claim === 'image/jpg' || claim === 'image/pjpeg') contentType = 'image/jpeg';
    else if (claim === 'application/x-zip-compressed') contentType = 'application/zip';
    else if (claim === 'audio/mp3') contentType = 'audio/mpeg';
    else contentType = claim;
  }
  if (!allowed.includes(contentType)) return { ok: false, reason: 'not_allowed', sniffed };
  return { ok: true, contentType };
}
