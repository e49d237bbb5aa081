/**
 * Content types the attachment sniffer (conversations/attachments/sniff.ts) can recognise from a
 * file's bytes, and the default allow-list. HTML, SVG and XML are never stored: they could run
 * script if a browser rendered them.
 */
export const SNIFFABLE_TYPES: readonly string[] = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/pdf',
  'text/plain',
  'text/csv',
  'application/zip',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'audio/mpeg',
  'video/mp4',
];

export const DEFAULT_ATTACHMENT_TYPES: readonly string[] = SNIFFABLE_TYPES;
