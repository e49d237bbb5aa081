export const CSAT_REQUESTED = 'sb.evt.csat.requested';
export const CSAT_RESPONDED = 'sb.evt.csat.responded';

/** For channels that deliver the link themselves (e.g. email), when the subject has no conversation. */
export interface CsatRequestedEvent {
  surveyId: string;
  subjectType: 'ticket' | 'conversation';
  subjectId: string;
  contactId: string | null;
  url: string;
}

export interface CsatRespondedEvent {
  surveyId: string;
  subjectType: 'ticket' | 'conversation';
  subjectId: string;
  conversationId: string | null;
  contactId: string | null;
  teamId: string | null;
  agentId: string | null;
  rating: number;
  hasComment: boolean;
  sentAt: string | null;
  answeredAt: string;
}
