/**
 * Metric definitions (see docs/analytics.md). Pure: given facts already filtered to a group,
 * produce the numbers. Durations are in seconds, rates in [0, 1], null when undefined.
 */
export interface MetricValues {
  conversationsCreated: number;
  conversationsResolved: number;
  firstResponseSeconds: number | null;
  averageResponseSeconds: number | null;
  resolutionSeconds: number | null;
  fcrRate: number | null;
  fcrEligible: number;
  reopenRate: number | null;
  csatAverage: number | null;
  csatResponseRate: number | null;
  botConversations: number;
  containmentRate: number | null;
  transferRate: number | null;
  ticketsSolved: number;
  slaAttainment: number | null;
}

export const METRIC_NAMES: Array<keyof MetricValues> = [
  'conversationsCreated',
  'conversationsResolved',
  'firstResponseSeconds',
  'averageResponseSeconds',
  'resolutionSeconds',
  'fcrRate',
  'fcrEligible',
  'reopenRate',
  'csatAverage',
  'csatResponseRate',
  'botConversations',
  'containmentRate',
  'transferRate',
  'ticketsSolved',
  'slaAttainment',
];

export class MetricAccumulator {
  created = 0;
  resolved = 0;
  firstResponseTotal = 0;
  firstResponseCount = 0;
  responseTotal = 0;
  responseCount = 0;
  resolutionTotal = 0;
  resolutionCount = 0;
  fcrEligible = 0;
  fcrYes = 0;
  reopened = 0;
  csatSum = 0;
  csatAnswered = 0;
  csatRequested = 0;
  botConversations = 0;
  contained = 0;
  transferred = 0;
  ticketsSolved = 0;
  ticketsWithinSla = 0;

  values(): MetricValues {
    const ratio = (a: number, b: number) => (b > 0 ? round(a / b, 4) : null);
    const mean = (total: number, count: number) => (count > 0 ? round(total / count / 1000, 1) : null);
    return {
      conversationsCreated: this.created,
      conversationsResolved: this.resolved,
      firstResponseSeconds: mean(this.firstResponseTotal, this.firstResponseCount),
      averageResponseSeconds: mean(this.responseTotal, this.responseCount),
      resolutionSeconds: mean(this.resolutionTotal, this.resolutionCount),
      fcrRate: ratio(this.fcrYes, this.fcrEligible),
      fcrEligible: this.fcrEligible,
      reopenRate: ratio(this.reopened, this.resolved),
      csatAverage: this.csatAnswered > 0 ? round(this.csatSum / this.csatAnswered, 2) : null,
      csatResponseRate: ratio(this.csatAnswered, this.csatRequested),
      botConversations: this.botConversations,
      containmentRate: ratio(this.contained, this.botConversations),
      transferRate: ratio(this.transferred, this.botConversations),
      ticketsSolved: this.ticketsSolved,
      slaAttainment: ratio(this.ticketsWithinSla, this.ticketsSolved),
    };
  }
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
