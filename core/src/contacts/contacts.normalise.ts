/** Canonical forms used for blind indexes: two spellings of the same identifier must hash alike. */
export function normaliseEmail(value: string): string {
  return value.trim().normalize('NFKC').toLowerCase();
}

const PHONE_SEPARATORS = /[\s\-().\u00a0/]/g;

/** `+1 (555) 010-2030` → `+15550102030`; returns null when it is not a plausible phone number. */
export function normalisePhone(value: string): string | null {
  const compact = value.normalize('NFKC').replace(PHONE_SEPARATORS, '');
  const normalised = compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
  return /^\+?\d{4,20}$/.test(normalised) ? normalised : null;
}

export function isEmail(value: string): boolean {
  return /^[^\s@]{1,64}@[^\s@]{1,255}$/.test(value.trim());
}

/**
 * Name search tokens: the whole name plus each word, case-folded. Names written without
 * spaces (Chinese) also get their single characters' bigrams, so "张伟" finds "张伟明".
 */
export function nameTokens(name: string): string[] {
  const folded = name.normalize('NFKC').toLowerCase().trim().replace(/\s+/g, ' ');
  if (!folded) return [];
  const tokens = new Set<string>([folded]);
  for (const word of folded.split(/[\s,.;:'"!?()[\]{}<>/\\|@#$%^&*+=~`-]+/u)) {
    if (!word) continue;
    tokens.add(word);
    if (/\p{Script=Han}/u.test(word) && word.length > 2) {
      for (let i = 0; i + 2 <= word.length; i++) tokens.add(word.slice(i, i + 2));
    }
  }
  return [...tokens].slice(0, 32);
}

/** The tokens a search query must all match. */
export function queryTokens(query: string): string[] {
  const folded = query.normalize('NFKC').toLowerCase().trim().replace(/\s+/g, ' ');
  if (!folded) return [];
  const words = folded.split(/[\s,.;:'"!?()[\]{}<>/\\|@#$%^&*+=~`-]+/u).filter(Boolean);
  return words.length ? [...new Set(words)] : [folded];
}
