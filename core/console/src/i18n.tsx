import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { en, type MessageKey } from './locales/en';
import { zh } from './locales/zh';

/**
 * A small i18n layer (i18next is not installed in this workspace): two complete dictionaries,
 * checked by the type system (zh must have every key en has), `{name}` interpolation, and a
 * language switch remembered in localStorage (a preference, never a credential).
 */
export type Lang = 'en-US' | 'zh-CN';
export const LANGS: Lang[] = ['zh-CN', 'en-US'];
export const DICTIONARIES: Record<Lang, Record<MessageKey, string>> = { 'en-US': en, 'zh-CN': zh };
export type { MessageKey };

export type TFunction = (key: MessageKey, vars?: Record<string, string | number>) => string;

export function translate(lang: Lang, key: MessageKey, vars?: Record<string, string | number>): string {
  const template = DICTIONARIES[lang][key] ?? en[key] ?? key;
  return vars ? template.replace(/\{(\w+)\}/g, (_, name: string) => (vars[name] === undefined ? `{${name}}` : String(vars[name]))) : template;
}

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem('sb.lang');
    if (saved === 'en-US' || saved === 'zh-CN') return saved;
  } catch {
    // storage disabled
  }
  return navigator.language?.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en-US';
}

interface I18nValue {
  lang: Lang;
  setLang(lang: Lang): void;
  t: TFunction;
}

const I18nContext = createContext<I18nValue | null>(null);

export function I18nProvider({ children, lang: forced }: { children: ReactNode; lang?: Lang }) {
  const [lang, setLangState] = useState<Lang>(forced ?? initialLang());
  const setLang = useCallback((next: Lang) => {
    setLangState(next);
    document.documentElement.lang = next;
    try {
      localStorage.setItem('sb.lang', next);
    } catch {
      // storage disabled
    }
  }, []);
  const value = useMemo<I18nValue>(() => {
    document.documentElement.lang = lang;
    return { lang, setLang, t: (key, vars) => translate(lang, key, vars) };
  }, [lang, setLang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18nValue {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}

export function useT(): TFunction {
  return useI18n().t;
}
