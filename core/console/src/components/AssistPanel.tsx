import { useEffect, useState } from 'react';
import { Alert, Button, Card, List, Space, Tag, Typography } from 'antd';
import { BulbOutlined } from '@ant-design/icons';
import { api } from '../api';
import { isMissingRoute } from '../util';
import { useT } from '../i18n';
import type { Contact, Message } from '../types';

interface Canned {
  id: string;
  name: string;
  body: string;
  shortcut: string | null;
}

interface Annotation {
  language: string | null;
  intent: string | null;
  intentConfidence: number | null;
  sentiment?: string;
  anger?: boolean;
  anxiety?: boolean;
  entities?: Array<{ type: string; value: string }>;
}

interface Suggestion {
  text: string;
  source: string;
  cannedId?: string;
  /** From the assist API: `kb:<id>` or `canned:<id>`, sent back as feedback. */
  assistId?: string;
}

interface AssistSnapshot {
  suggestions: Array<{ id: string; text: string; score: number; source: { type: 'kb'; title: string } | { type: 'canned'; name: string } }>;
  facts: Array<{ type: string; text: string; source: string }>;
  emotionTrend?: { trend: string; latest: string | null };
}

/**
 * Assist panel. The core has no assist module yet (no /api/v1/assist: no LLM/KB-grounded replies,
 * no summary). What it can do with what exists: annotate the last customer message with the NLP
 * module (intent, language, emotion, entities = key facts) and suggest the canned responses whose
 * name or shortcut matches the intent, each with its source.
 */
export function AssistPanel({
  conversationId,
  messages,
  canned,
  onUse,
  contact,
}: {
  conversationId: string;
  messages: Message[];
  canned: Canned[];
  onUse(text: string): void;
  contact?: Contact;
}) {
  const t = useT();
  const [annotation, setAnnotation] = useState<Annotation | null>(null);
  // The assist API (suggestions with sources, key facts, emotions, summary); older cores lack it.
  const [assistMissing, setAssistMissing] = useState(false);
  const [snapshot, setSnapshot] = useState<AssistSnapshot | null>(null);
  const [summary, setSummary] = useState<string | null>(null);
  const [suggestions, setSuggestions] = useState<Suggestion[]>([]);
  const lastInbound = [...messages].reverse().find((message) => message.direction === 'in' && message.authorType === 'contact');

  useEffect(() => {
    let cancelled = false;
    api.get<AssistSnapshot>(`/api/v1/assist/conversations/${conversationId}`).then(
      (value) => !cancelled && (setSnapshot(value), setAssistMissing(false)),
      (error: unknown) => !cancelled && (setSnapshot(null), setAssistMissing(isMissingRoute(error))),
    );
    return () => {
      cancelled = true;
    };
  }, [conversationId, messages.length]);

  const loadSummary = () =>
    void api
      .get<{ summary: string }>(`/api/v1/assist/conversations/${conversationId}/summary`)
      .then((value) => setSummary(value.summary))
      .catch(() => setSummary(null));

  useEffect(() => {
    if (!lastInbound?.text) {
      setAnnotation(null);
      return;
    }
    let cancelled = false;
    api
      .post<Annotation>('/api/v1/nlp/annotate', { text: lastInbound.text.slice(0, 2000) })
      .then((value) => !cancelled && setAnnotation(value))
      .catch(() => !cancelled && setAnnotation(null));
    return () => {
      cancelled = true;
    };
  }, [lastInbound?.id, lastInbound?.text]);

  useEffect(() => {
    const intent = annotation?.intent?.toLowerCase() ?? lastInbound?.annotations?.intent?.toLowerCase();
    const words = (lastInbound?.text ?? '').toLowerCase();
    const ranked = canned
      .map((item) => {
        const key = `${item.name} ${item.shortcut ?? ''}`.toLowerCase();
        let score = 0;
        if (intent && key.includes(intent)) score += 2;
        for (const token of key.split(/[\s_\-/]+/).filter((token) => token.length > 2)) if (words.includes(token)) score += 1;
        return { item, score };
      })
      .filter((entry) => entry.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, 3);
    const picked = ranked.length > 0 ? ranked : canned.slice(0, 2).map((item) => ({ item, score: 0 }));
    setSuggestions(
      picked.map(({ item, score }) => ({
        text: item.body,
        cannedId: item.id,
        source: score > 0 && intent ? t('assist.sourceIntent', { name: item.name, intent }) : t('assist.sourceCanned', { name: item.name }),
      })),
    );
  }, [annotation, canned, lastInbound?.id, lastInbound?.text, lastInbound?.annotations?.intent, t]);

  const use = async (suggestion: Suggestion) => {
    if (suggestion.assistId) {
      void api.post('/api/v1/assist/feedback', { conversationId, suggestionId: suggestion.assistId, action: 'used' }).catch(() => undefined);
      return onUse(suggestion.text);
    }
    if (!suggestion.cannedId) return onUse(suggestion.text);
    try {
      const rendered = await api.post<{ text: string }>(`/api/v1/automation/canned-responses/${suggestion.cannedId}/render`, { conversationId });
      onUse(rendered.text);
    } catch {
      onUse(suggestion.text);
    }
  };

  const facts: Array<[string, string]> = snapshot ? snapshot.facts.map((fact) => [fact.type, fact.text]) : [];
  if (snapshot?.emotionTrend?.latest) facts.push([t('badge.emotion'), `${snapshot.emotionTrend.latest} (${snapshot.emotionTrend.trend})`]);
  if (!snapshot && annotation?.language) facts.push([t('customer.language'), annotation.language]);
  if (!snapshot && annotation?.intent) facts.push([t('badge.intent'), `${annotation.intent} (${Math.round((annotation.intentConfidence ?? 0) * 100)}%)`]);
  if (!snapshot && annotation?.anger) facts.push([t('badge.emotion'), t('assist.anger')]);
  else if (annotation?.anxiety) facts.push([t('badge.emotion'), t('assist.anxiety')]);
  if (!snapshot) for (const entity of annotation?.entities ?? []) facts.push([entity.type, entity.value]);
  if (contact?.vip && !facts.some(([type]) => type.toLowerCase() === 'vip')) facts.push(['VIP', '✓']);
  // The assist API's suggestions; when it has none (no KB answer, no matching canned response), the
  // canned responses ranked by the NLP intent of the last customer message.
  const shown: Suggestion[] = snapshot?.suggestions.length
    ? snapshot.suggestions.map((item) => ({
        text: item.text,
        assistId: item.id,
        source: item.source.type === 'kb' ? t('assist.sourceKb', { title: item.source.title }) : t('assist.sourceCanned', { name: item.source.name }),
      }))
    : suggestions;

  return (
    <Card
      size="small"
      title={
        <Space>
          <BulbOutlined />
          {t('assist.title')}
        </Space>
      }
      style={{ marginBottom: 8 }}
      data-testid="assist-panel"
    >
      <Typography.Text strong>{t('assist.suggestions')}</Typography.Text>
      <List
        size="small"
        dataSource={shown}
        locale={{ emptyText: t('assist.noSuggestions') }}
        renderItem={(suggestion) => (
          <List.Item
            actions={[
              <Button key="use" size="small" onClick={() => void use(suggestion)} data-testid="use-suggestion">
                {t('assist.use')}
              </Button>,
            ]}
          >
            <Space direction="vertical" size={0}>
              <Typography.Paragraph ellipsis={{ rows: 2 }} style={{ margin: 0 }} data-testid="suggestion-text">
                {suggestion.text}
              </Typography.Paragraph>
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {t('assist.source')}: {suggestion.source}
              </Typography.Text>
            </Space>
          </List.Item>
        )}
      />
      <Typography.Text strong>{t('assist.facts')}</Typography.Text>
      <div style={{ margin: '4px 0 8px' }}>
        {facts.length ? (
          facts.map(([label, value], index) => (
            <Tag key={index}>
              {label}: {value}
            </Tag>
          ))
        ) : (
          <Typography.Text type="secondary">{t('common.none')}</Typography.Text>
        )}
      </div>
      {!assistMissing && (
        <>
          <Space>
            <Typography.Text strong>{t('assist.summary')}</Typography.Text>
            <Button size="small" type="link" onClick={loadSummary} data-testid="assist-summary">
              {t('assist.summarise')}
            </Button>
          </Space>
          {summary !== null && <Typography.Paragraph style={{ whiteSpace: 'pre-wrap' }}>{summary || t('common.none')}</Typography.Paragraph>}
        </>
      )}
      {assistMissing && <Alert type="warning" showIcon title={t('gap.assist')} data-testid="assist-gap" />}
    </Card>
  );
}
