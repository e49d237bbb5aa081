import { useCallback, useEffect, useRef, useState } from 'react';
import DOMPurify from 'dompurify';
import { Tag } from 'antd';
import { ApiError } from './api';
import { useT } from './i18n';

/** Lists come as `{ items }` or as a bare array. */
export function itemsOf<T>(value: unknown): T[] {
  if (Array.isArray(value)) return value as T[];
  if (value && typeof value === 'object' && Array.isArray((value as { items?: unknown }).items)) return (value as { items: T[] }).items;
  return [];
}

export interface Loadable<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
  setData(update: T | ((previous: T | undefined) => T)): void;
}

/** Runs `load` on mount and whenever `deps` change; `reload()` runs it again. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loadable<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    loadRef.current(controller.signal).then(
      (value) => {
        if (controller.signal.aborted) return;
        setData(value);
        setError(undefined);
        setLoading(false);
      },
      (failure: unknown) => {
        if (controller.signal.aborted) return;
        setError(failure);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((value) => value + 1), []);
  return { data, error, loading, reload, setData: setData as Loadable<T>['setData'] };
}

/** True when the backend does not have this route at all (a capability gap, not an error). */
export function isMissingRoute(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && (error.code === 'not_found' || error.code === 'route_not_found' || error.code === 'http_404');
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * HTML from customers (e-mail bodies) rendered only after DOMPurify: no scripts, no event
 * handlers, no forms, no styles; links open in a new tab without an opener.
 */
export function sanitize(html: string): string {
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed', 'svg', 'math'],
    FORBID_ATTR: ['style', 'srcset'],
    ALLOW_DATA_ATTR: false,
  });
}

export function SafeHtml({ html, className }: { html: string; className?: string }) {
  // The only use of dangerouslySetInnerHTML in the console, always on DOMPurify's output.
  return <div className={className} dangerouslySetInnerHTML={{ __html: sanitize(html) }} />;
}

/** Only http(s) links are clickable; anything else (javascript:, data:) renders as text. */
export function safeUrl(url: string | undefined | null): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url, window.location.origin);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.toString() : null;
  } catch {
    return null;
  }
}

export function formatTime(value: string | null | undefined, lang: string): string {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '—' : date.toLocaleString(lang, { dateStyle: 'short', timeStyle: 'short' });
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.round(Math.abs(seconds));
  const sign = seconds < 0 ? '-' : '';
  if (s < 60) return `${sign}${s}s`;
  if (s < 3600) return `${sign}${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${sign}${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${sign}${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${Math.round(value * 1000) / 10}%`;
}

const CHANNEL_COLOURS: Record<string, string> = {
  webchat: 'blue',
  email: 'purple',
  api: 'cyan',
  wechat: 'green',
  sms: 'orange',
  phone: 'gold',
  whatsapp: 'lime',
};

export function ChannelBadge({ channel }: { channel: string | null | undefined }) {
  const t = useT();
  if (!channel) return null;
  return (
    <Tag color={CHANNEL_COLOURS[channel] ?? 'default'} aria-label={t('channel.label', { channel })}>
      {channel}
    </Tag>
  );
}

const STATE_COLOURS: Record<string, string> = {
  open: 'blue',
  pending: 'gold',
  snoozed: 'default',
  resolved: 'green',
  new: 'cyan',
  on_hold: 'default',
  solved: 'green',
  closed: 'default',
  ok: 'green',
  warning: 'orange',
  fault: 'red',
  offline: 'default',
  unknown: 'default',
  low: 'default',
  normal: 'blue',
  high: 'orange',
  urgent: 'red',
  online: 'green',
  away: 'gold',
};

export function StateTag({ value, label }: { value: string; label?: string }) {
  return <Tag color={STATE_COLOURS[value] ?? 'default'}>{label ?? value}</Tag>;
}

/** Is the keyboard event typed into a field (so single-key shortcuts must not fire)? */
export function typingInField(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  if (!target) return false;
  const tag = target.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable;
}
