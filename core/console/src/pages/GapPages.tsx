import { useEffect, useState } from 'react';
import { Alert, Card, Input, List, Space, Tag, Typography } from 'antd';
import { api } from '../api';
import { useT, type MessageKey } from '../i18n';
import { isMissingRoute } from '../util';

/** Probes an API route; `missing` when the core does not have it at all. */
function useProbe(path: string): 'checking' | 'present' | 'missing' {
  const [state, setState] = useState<'checking' | 'present' | 'missing'>('checking');
  useEffect(() => {
    api.get(path).then(
      () => setState('present'),
      (error: unknown) => setState(isMissingRoute(error) ? 'missing' : 'present'),
    );
  }, [path]);
  return state;
}

function GapCard({ title, probe, needs, children }: { title: MessageKey; probe: string; needs: string[]; children?: React.ReactNode }) {
  const t = useT();
  const state = useProbe(probe);
  return (
    <Card title={t(title)}>
      {state === 'missing' && (
        <Alert
          type="warning"
          showIcon
          data-testid="gap"
          title={t('gap.title')}
          description={
            <>
              <Typography.Paragraph>{t('gap.body')}</Typography.Paragraph>
              <List
                size="small"
                dataSource={needs}
                renderItem={(item) => (
                  <List.Item>
                    <Typography.Text code>{item}</Typography.Text>
                  </List.Item>
                )}
              />
            </>
          }
        />
      )}
      {state === 'present' && <Alert type="info" showIcon title={t('gap.presentButNotWired')} />}
      {children}
    </Card>
  );
}

export function KnowledgePage() {
  const t = useT();
  const [query, setQuery] = useState('');
  const [result, setResult] = useState<unknown>(null);
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <GapCard
        title="nav.knowledge"
        probe="/api/v1/kb/articles"
        needs={[
          'GET/POST /api/v1/kb/articles (articles, locales)',
          'PATCH /api/v1/kb/articles/:id, POST …/publish, …/unpublish',
          'GET/PUT /api/v1/kb/articles/:id/variants (question variants)',
          'GET /api/v1/kb/articles/:id/feedback',
        ]}
      />
      <Card size="small" title={t('kb.tryRetrieval')}>
        <Typography.Paragraph type="secondary">{t('kb.tryRetrievalHelp')}</Typography.Paragraph>
        <Input.Search
          aria-label={t('kb.tryRetrieval')}
          value={query}
          onChange={(event) => setQuery(event.target.value)}
          enterButton={t('nlp.annotate')}
          onSearch={(text) =>
            text.trim() &&
            void api
              .post('/api/v1/nlp/annotate', { text, scope: 'kb' })
              .then(setResult)
              .catch((error: Error) => setResult({ error: error.message }))
          }
        />
        {result !== null && <pre style={{ whiteSpace: 'pre-wrap', fontSize: 12, marginTop: 8 }}>{JSON.stringify(result, null, 2)}</pre>}
      </Card>
    </Space>
  );
}

export function BotPage() {
  const t = useT();
  return (
    <GapCard
      title="nav.bot"
      probe="/api/v1/bot/flows"
      needs={[
        'GET/POST /api/v1/bot/flows',
        'PUT /api/v1/bot/flows/:id (validated JSON/YAML)',
        'POST /api/v1/bot/flows/:id/preview',
        'POST /api/v1/bot/flows/:id/publish',
      ]}
    >
      <Typography.Paragraph style={{ marginTop: 12 }}>
        {t('bot.containment')} <Tag>/analytics</Tag>
      </Typography.Paragraph>
    </GapCard>
  );
}
