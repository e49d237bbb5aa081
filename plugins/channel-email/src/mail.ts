/**
 * Pure helpers of the email channel: loop detection, HTML sanitising, threading ids.
 */
import sanitizeHtml from 'sanitize-html';
import type { ParsedMail } from 'mailparser';

/** Tags and attributes an agent may see. Everything else (script, style, iframe, on* handlers, forms) is dropped. */
const ALLOWED: sanitizeHtml.IOptions = {
  allowedTags: [
    'p',
    'br',
    'div',
    'span',
    'b',
    'strong',
    'i',
    'em',
    'u',
    's',
    'small',
    'sub',
    'sup',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'blockquote',
    'pre',
    'code',
    'hr',
    'ul',
    'ol',
    'li',
    'dl',
    'dt',
    'dd',
    'a',
    'table',
    'thead',
    'tbody',
    'tfoot',
    'tr',
    'th',
    'td',
    'caption',
  ],
  allowedAttributes: { a: ['href', 'title'], td: ['colspan', 'rowspan'], th: ['colspan', 'rowspan'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'title', 'head'],
  transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer nofollow', target: '_blank' }) },
};
ALLOWED.allowedAttributes = { ...(ALLOWED.allowedAttributes as Record<string, string[]>), a: ['href', 'title', 'rel', 'target'] };

export function sanitizeEmailHtml(html: string): string {
  return sanitizeHtml(html, ALLOWED);
}

/** Plain text from HTML, for mails without a text part. */
export function htmlToText(html: string): string {
  const withBreaks = html.replace(/<\s*br\s*\/?>/gi, '\n').replace(/<\/(p|div|li|tr|h[1-6])\s*>/gi, '\n');
  const text = sanitizeHtml(withBreaks, { allowedTags: [], allowedAttributes: {}, nonTextTags: ['script', 'style', 'title', 'head'] });
  return text
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const header = (mail: ParsedMail, name: string): string => {
  const value = mail.headers.get(name);
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.toLowerCase();
  if (typeof value === 'object' && 'value' in (value as object)) return String((value as { value: unknown }).value).toLowerCase();
  return String(value).toLowerCase();
};

/**
 * Why a mail must not be answered (or stored as a customer message), or null. Auto-replies,
 * bounces and bulk mail would otherwise ping-pong with our own replies (RFC 3834).
 */
export function loopReason(mail: ParsedMail): string | null {
  const autoSubmitted = header(mail, 'auto-submitted');
  if (autoSubmitted && autoSubmitted !== 'no') return `Auto-Submitted: ${autoSubmitted}`;
  const precedence = header(mail, 'precedence');
  if (['bulk', 'junk', 'list', 'auto_reply'].includes(precedence)) return `Precedence: ${precedence}`;
  if (header(mail, 'x-autoreply') || header(mail, 'x-autorespond') || header(mail, 'x-auto-response-suppress').includes('all')) return 'auto-responder header';
  if (header(mail, 'x-switchboard-message-id')) return 'our own message came back';
  const from = mail.from?.value?.[0]?.address?.toLowerCase() ?? '';
  if (/^(mailer-daemon|postmaster)@/.test(from)) return `bounce from ${from}`;
  const contentType = header(mail, 'content-type');
  if (contentType.includes('multipart/report') || contentType.includes('delivery-status')) return 'delivery status notification';
  if (!from) return 'no sender address';
  return null;
}

/** Message-ids without angle brackets, oldest first. */
export function referenceIds(mail: ParsedMail): string[] {
  const references = Array.isArray(mail.references) ? mail.references : mail.references ? [mail.references] : [];
  const ids = [...references.flatMap((ref) => ref.split(/\s+/)), ...(mail.inReplyTo ? mail.inReplyTo.split(/\s+/) : [])];
  return [...new Set(ids.map(strip).filter(Boolean))];
}

export function strip(id: string | undefined): string {
  return (id ?? '').trim().replace(/^<|>$/g, '');
}

export function replySubject(subject: string | undefined): string {
  const clean = (subject ?? '').trim() || '(no subject)';
  return /^(re|aw|回复|答复)\s*[:：]/i.test(clean) ? clean : `Re: ${clean}`;
}
