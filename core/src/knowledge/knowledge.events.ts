/** Knowledge events (outbox). Every core instance re-indexes the KB on `published`/`unpublished`/`imported`. */
export const KNOWLEDGE_PUBLISHED = 'sb.evt.knowledge.published';
export const KNOWLEDGE_UNPUBLISHED = 'sb.evt.knowledge.unpublished';
export const KNOWLEDGE_IMPORTED = 'sb.evt.knowledge.imported';
export const KNOWLEDGE_PROPOSAL_CREATED = 'sb.evt.knowledge.proposal_created';
export const KNOWLEDGE_FEEDBACK = 'sb.evt.knowledge.feedback';
export const KNOWLEDGE_SUBJECTS = 'sb.evt.knowledge.>';

export interface KnowledgePublishedEvent {
  kbId: string;
  entryId: string;
  version: number;
}

export interface KnowledgeUnpublishedEvent {
  kbId: string;
  entryId: string;
}

export interface KnowledgeImportedEvent {
  kbId: string;
  created: number;
  updated: number;
  published: number;
}

export interface KnowledgeProposalCreatedEvent {
  proposalId: string;
  kbId: string;
  kind: 'new_faq' | 'new_variant';
  source: 'mining' | 'agent_answer';
}

export interface KnowledgeFeedbackEvent {
  entryId: string;
  helpful: boolean;
  source: 'customer' | 'agent';
  conversationId: string | null;
}
