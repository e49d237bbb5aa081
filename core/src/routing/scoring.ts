/**
 * Pure routing arithmetic: priority scores and candidate ordering. No I/O, unit-tested.
 *
 * Live score of a waiting conversation at time t:
 *   score(t) = base + AGING_PER_MINUTE * minutesWaiting(t)
 *   base     = PRIORITY[priority] + (vip ? VIP_BONUS : 0) + EMOTION[emotion]
 * Because aging is the same for every item, ordering by score(t) equals ordering by the
 * time-independent `rank = base - AGING_PER_MINUTE * minutes(enqueuedAt)`, which is stored
 * and indexed, so the queue is read in priority order by one indexed query.
 */
export const PRIORITY_POINTS: Record<string, number> = { low: 0, normal: 10, medium: 10, high: 30, urgent: 60 };
export const VIP_BONUS = 40;
export const EMOTION_POINTS: Record<string, number> = {
  angry: 30,
  anger: 30,
  furious: 40,
  frustrated: 25,
  negative: 20,
  sad: 10,
  sadness: 10,
  fear: 10,
  anxious: 10,
};
export const AGING_PER_MINUTE = 1;
/** Minutes are counted from this instant to keep stored ranks small. */
const EPOCH_MS = Date.UTC(2026, 0, 1);

/** Capacity arithmetic is done in hundredths so a weight of 0.5 stays exact. */
export const UNITS_PER_CONVERSATION = 100;

export function normalisePriority(priority: unknown): string {
  if (typeof priority === 'number') {
    if (priority >= 4) return 'urgent';
    if (priority === 3) return 'high';
    if (priority <= 1) return 'low';
    return 'normal';
  }
  const text = typeof priority === 'string' ? priority.trim().toLowerCase() : '';
  return text in PRIORITY_POINTS ? (text === 'medium' ? 'normal' : text) : 'normal';
}

export function baseScore(input: { priority: string; vip: boolean; emotion: string | null }): number {
  return (PRIORITY_POINTS[input.priority] ?? 10) + (input.vip ? VIP_BONUS : 0) + (input.emotion ? (EMOTION_POINTS[input.emotion.toLowerCase()] ?? 0) : 0);
}

export function rankFor(base: number, enqueuedAt: Date): number {
  return base - AGING_PER_MINUTE * ((enqueuedAt.getTime() - EPOCH_MS) / 60_000);
}

export function liveScore(rank: number, now: Date): number {
  return Math.round((rank + AGING_PER_MINUTE * ((now.getTime() - EPOCH_MS) / 60_000)) * 100) / 100;
}

export function weightUnits(channelWeights: Record<string, number> | null | undefined, channel: string): number {
  const weight = channelWeights?.[channel];
  const value = typeof weight === 'number' && Number.isFinite(weight) && weight > 0 ? weight : 1;
  return Math.max(1, Math.round(value * UNITS_PER_CONVERSATION));
}

export interface CandidateAgent {
  agentId: string;
  status: string;
  teamIds: string[];
  skills: string[];
  languages: string[];
  maxConcurrent: number;
  channelWeights: Record<string, number>;
  loadUnits: number;
  lastAssignedAt: Date | null;
  assignCounter: number;
}

export interface RoutableItem {
  teamId: string | null;
  channel: string;
  requiredSkills: string[];
  language: string | null;
}

const lower = (values: string[]) => values.map((value) => value.toLowerCase());

/** Language tags match on the primary subtag: `zh` serves `zh-CN`, `en-US` serves `en`. */
export function speaks(languages: string[], wanted: string | null): boolean {
  // An agent with no languages configured is not restricted by language.
  if (!wanted || languages.length === 0) return true;
  const primary = wanted.toLowerCase().split(/[-_]/)[0]!;
  return lower(languages).some((language) => language.split(/[-_]/)[0] === primary);
}

export function eligible(agent: CandidateAgent, item: RoutableItem): boolean {
  if (agent.status !== 'online') return false;
  if (item.teamId && !agent.teamIds.includes(item.teamId)) return false;
  const skills = new Set(lower(agent.skills));
  if (!item.requiredSkills.every((skill) => skills.has(skill.toLowerCase()))) return false;
  if (!speaks(agent.languages, item.language)) return false;
  return agent.loadUnits + weightUnits(agent.channelWeights, item.channel) <= agent.maxConcurrent * UNITS_PER_CONVERSATION;
}

/**
 * Eligible agents in the order to try: the preferred (sticky) agent first when eligible, then
 * least-loaded (by share of capacity), then round-robin among equals (longest since last assignment).
 */
export function orderCandidates<T extends CandidateAgent>(agents: T[], item: RoutableItem, preferredAgentId: string | null): T[] {
  const pool = agents.filter((agent) => eligible(agent, item));
  pool.sort((a, b) => {
    if (preferredAgentId) {
      if (a.agentId === preferredAgentId) return -1;
      if (b.agentId === preferredAgentId) return 1;
    }
    const share = a.loadUnits / a.maxConcurrent - b.loadUnits / b.maxConcurrent;
    if (share !== 0) return share;
    const at = (a.lastAssignedAt?.getTime() ?? 0) - (b.lastAssignedAt?.getTime() ?? 0);
    if (at !== 0) return at;
    const counter = a.assignCounter - b.assignCounter;
    if (counter !== 0) return counter;
    return a.agentId.localeCompare(b.agentId);
  });
  return pool;
}
