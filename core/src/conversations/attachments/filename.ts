const EXTENSIONS: Record<string, string[]> = {
  'image/png': ['png'],
  'image/jpeg': ['jpg', 'jpeg'],
  'image/gif': ['gif'],
  'image/webp': ['webp'],
  'application/pdf': ['pdf'],
  'text/plain': ['txt', 'log', 'text', 'md'],
  'text/csv': ['csv'],
  'application/zip': ['zip'],
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': ['docx'],
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': ['xlsx'],
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': ['pptx'],
  'audio/mpeg': ['mp3'],
  'video/mp4': ['mp4', 'm4a', 'm4v'],
};

const MAX_NAME = 200;

/**
 * A safe display and download name: the last path segment, NFC, without control characters or
 * characters that are special in file systems and headers, no leading dots, at most 200
 * characters. When the extension does not match the stored type, the right one is appended
 * (`invoice.html` holding a PNG becomes `invoice.html.png`).
 */
export function sanitiseFileName(raw: string | undefined, contentType: string): string {
  let name = (raw ?? '').normalize('NFC');
  name = name.split(/[/\\]/).pop() ?? '';
  name = name
    // eslint-disable-next-line no-control-regex -- removing control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/["<>:*?|;]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s]+/, '');
  const extensions = EXTENSIONS[contentType] ?? [];
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  let base = name || 'file';
  if (extensions.length && !extensions.includes(extension)) base = `${base}.${extensions[0]}`;
  if ([...base].length > MAX_NAME) {
    const suffix = extensions.length ? `.${extensions.includes(extension) ? extension : extensions[0]}` : '';
    base = [...base].slice(0, MAX_NAME - suffix.length).join('') + suffix;
  }
  return base;
}

/** `Content-Disposition: attachment` with an ASCII fallback and the RFC 5987 UTF-8 name. */
export function attachmentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
