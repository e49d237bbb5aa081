/** Accuracy, macro-F1, per-class report and the most frequent confusions. */
export interface ClassReport {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface EvalReport {
  accuracy: number;
  macro_f1: number;
  n: number;
  perClass: ClassReport[];
  confusions: Array<{ expected: string; predicted: string; count: number }>;
}

export function evaluate(expected: string[], predicted: string[]): EvalReport {
  if (expected.length !== predicted.length) throw new Error('expected and predicted differ in length');
  const labels = [...new Set(expected)].sort();
  const tp = new Map<string, number>();
  const fp = new Map<string, number>();
  const fn = new Map<string, number>();
  const confusions = new Map<string, number>();
  let correct = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const p = predicted[i];
    if (e === p) {
      correct++;
      tp.set(e, (tp.get(e) ?? 0) + 1);
    } else {
      fn.set(e, (fn.get(e) ?? 0) + 1);
      fp.set(p, (fp.get(p) ?? 0) + 1);
      const key = `${e}\u0000${p}`;
      confusions.set(key, (confusions.get(key) ?? 0) + 1);
    }
  }
  const perClass = labels.map((label) => {
    const t = tp.get(label) ?? 0;
    const precision = t + (fp.get(label) ?? 0) ? t / (t + (fp.get(label) ?? 0)) : 0;
    const recall = t + (fn.get(label) ?? 0) ? t / (t + (fn.get(label) ?? 0)) : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support: t + (fn.get(label) ?? 0) };
  });
  return {
    accuracy: expected.length ? correct / expected.length : 0,
    macro_f1: perClass.length ? perClass.reduce((sum, c) => sum + c.f1, 0) / perClass.length : 0,
    n: expected.length,
    perClass,
    confusions: [...confusions.entries()]
      .map(([key, count]) => {
        const [e, p] = key.split('\u0000');
        return { expected: e, predicted: p, count };
      })
      .sort((a, b) => b.count - a.count || a.expected.localeCompare(b.expected)),
  };
}

export function percentile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
