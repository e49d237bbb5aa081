import { useEffect, useState } from 'react';
import { Alert, Button, Card, List, Space, Tag, Typography } from 'antd';
import { BulbOutlined } from '@ant-design/icons';
import { api } from '../api';
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
  // No /api/v1/assist route exists in this core (see docs/console.md, "Backend gaps").
  const assistMissing = true;
  const [suggestions, setSuggestions] = useState<Suggestion[]>([]);
  const lastInbound = [...messages].reverse().find((message) => message.direction === 'in' && message.authorType === 'contact');

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
    if (!suggestion.cannedId) return onUse(suggestion.text);
    try {
      const rendered = await api.post<{ text: string }>(`/api/v1/automation/canned-responses/${suggestion.cannedId}/render`, { conversationId });
      onUse(rendered.text);
    } catch {
      onUse(suggestion.text);
    }
  };

  const facts: Array<[string, string]> = [];
  if (annotation?.language) facts.push([t('customer.language'), annotation.language]);
  if (annotation?.intent) facts.push([t('badge.intent'), `${annotation.intent} (${Math.round((annotation.intentConfidence ?? 0) * 100)}%)`]);
  if (annotation?.anger) facts.push([t('badge.emotion'), t('assist.anger')]);
  else if (annotation?.anxiety) facts.push([t('badge.emotion'), t('assist.anxiety')]);
  for (const entity of annotation?.entities ?? []) facts.push([entity.type, entity.value]);
  if (contact?.vip) facts.push(['VIP', '✓']);

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
        dataSource={suggestions}
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
      {assistMissing && <Alert type="warning" showIcon title={t('gap.assist')} data-testid="assist-gap" />}
    </Card>
  );
}
