import { useEffect, useState } from 'react';
import { Alert, App, Button, Card, Form, Input, List, Select, Space, Table, Tag, Typography } from 'antd';
import { api } from '../api';
import { useT, type MessageKey } from '../i18n';
import { errorText, isMissingRoute, itemsOf, useLoad } from '../util';

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

interface KbEntry {
  id: string;
  kind: string;
  title: string;
  questions: string[];
  answerText: string;
  language: string | null;
  status: string;
  version: number;
  publishedVersion: number | null;
  hasUnpublishedChanges: boolean;
  helpful: number;
  notHelpful: number;
}

export function KnowledgePage() {
  const t = useT();
  const { message: toast } = App.useApp();
  const state = useProbe('/api/v1/knowledge/entries');
  const entries = useLoad((signal) => api.get('/api/v1/knowledge/entries', { limit: 100 }, signal).then((value) => itemsOf<KbEntry>(value)), [state]);
  const [form] = Form.useForm<{ title: string; questions: string[]; answer: string }>();
  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      toast.success(t('common.saved'));
      entries.reload();
    } catch (error) {
      toast.error(errorText(error));
    }
  };
  if (state !== 'present')
    return (
      <GapCard
        title="nav.knowledge"
        probe="/api/v1/knowledge/entries"
        needs={[
          'GET/POST /api/v1/knowledge/entries',
          'PATCH /api/v1/knowledge/entries/:id, POST …/publish, …/unpublish',
          'GET /api/v1/knowledge/entries/:id/versions',
          'POST /api/v1/knowledge/entries/:id/feedback',
        ]}
      />
    );
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Card title={t('nav.knowledge')} size="small">
        <Table<KbEntry>
          size="small"
          rowKey="id"
          dataSource={entries.data ?? []}
          pagination={{ pageSize: 50, hideOnSinglePage: true }}
          expandable={{
            expandedRowRender: (entry) => (
              <Space direction="vertical" style={{ width: '100%' }}>
                <div>
                  {entry.questions.map((question, index) => (
                    <Tag key={index}>{question}</Tag>
                  ))}
                </div>
                <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', margin: 0 }}>{entry.answerText}</Typography.Paragraph>
              </Space>
            ),
          }}
          columns={[
            { title: t('kb.title'), dataIndex: 'title' },
            { title: t('admin.kind'), dataIndex: 'kind', width: 90 },
            { title: t('customer.language'), dataIndex: 'language', width: 80 },
            { title: t('kb.variants'), key: 'q', width: 80, render: (_: unknown, entry) => entry.questions.length },
            {
              title: t('inbox.status'),
              key: 's',
              width: 160,
              render: (_: unknown, entry) => (
                <Space size={4}>
                  <Tag color={entry.status === 'published' ? 'green' : 'default'}>{entry.status}</Tag>
                  {entry.hasUnpublishedChanges && <Tag color="orange">{t('kb.changed')}</Tag>}
                </Space>
              ),
            },
            { title: t('kb.feedback'), key: 'f', width: 100, render: (_: unknown, entry) => `👍 ${entry.helpful} · 👎 ${entry.notHelpful}` },
            {
              title: '',
              key: 'a',
              width: 120,
              render: (_: unknown, entry) =>
                entry.status === 'published' && !entry.hasUnpublishedChanges ? (
                  <Button size="small" onClick={() => void act(() => api.post(`/api/v1/knowledge/entries/${entry.id}/unpublish`))}>
                    {t('kb.unpublish')}
                  </Button>
                ) : (
                  <Button size="small" type="primary" onClick={() => void act(() => api.post(`/api/v1/knowledge/entries/${entry.id}/publish`))}>
                    {t('kb.publish')}
                  </Button>
                ),
            },
          ]}
        />
      </Card>
      <Card title={t('kb.new')} size="small">
        <Form
          form={form}
          layout="vertical"
          onFinish={(values) =>
            void act(async () => {
              await api.post('/api/v1/knowledge/entries', { kind: 'faq', ...values });
              form.resetFields();
            })
          }
        >
          <Form.Item name="title" label={t('kb.title')} rules={[{ required: true, message: t('common.required') }]}>
            <Input />
          </Form.Item>
          <Form.Item name="questions" label={t('kb.variants')}>
            <Select mode="tags" aria-label={t('kb.variants')} />
          </Form.Item>
          <Form.Item name="answer" label={t('kb.answer')} rules={[{ required: true, message: t('common.required') }]}>
            <Input.TextArea autoSize={{ minRows: 3 }} />
          </Form.Item>
          <Button htmlType="submit">{t('common.add')}</Button>
        </Form>
      </Card>
    </Space>
  );
}

interface Flow {
  id: string;
  name: string;
  version: number;
  status: string;
  format: string;
  source?: string;
}

export function BotPage() {
  const t = useT();
  const { message: toast } = App.useApp();
  const state = useProbe('/api/v1/bot/flows');
  const flows = useLoad((signal) => api.get('/api/v1/bot/flows', undefined, signal).then((value) => itemsOf<Flow>(value)), [state]);
  const [open, setOpen] = useState<Flow | null>(null);
  if (state !== 'present')
    return (
      <GapCard
        title="nav.bot"
        probe="/api/v1/bot/flows"
        needs={['GET/POST /api/v1/bot/flows', 'GET /api/v1/bot/flows/:name/versions/:version', 'POST …/activate']}
      />
    );
  return (
    <Card title={t('nav.bot')} size="small">
      <Typography.Paragraph type="secondary">{t('bot.containment')}</Typography.Paragraph>
      <Table<Flow>
        size="small"
        rowKey="id"
        dataSource={flows.data ?? []}
        pagination={false}
        columns={[
          { title: t('common.name'), dataIndex: 'name' },
          { title: t('nlp.version'), dataIndex: 'version', width: 90 },
          {
            title: t('inbox.status'),
            dataIndex: 'status',
            width: 110,
            render: (value: string) => <Tag color={value === 'active' ? 'green' : 'default'}>{value}</Tag>,
          },
          { title: t('bot.format'), dataIndex: 'format', width: 90 },
          {
            title: '',
            key: 'a',
            width: 200,
            render: (_: unknown, flow) => (
              <Space>
                <Button
                  size="small"
                  onClick={() =>
                    void api
                      .get<Flow>(`/api/v1/bot/flows/${encodeURIComponent(flow.name)}/versions/${flow.version}`)
                      .then(setOpen, (error: unknown) => toast.error(errorText(error)))
                  }
                >
                  {t('bot.view')}
                </Button>
                {flow.status !== 'active' && (
                  <Button
                    size="small"
                    type="primary"
                    onClick={() =>
                      void api
                        .post(`/api/v1/bot/flows/${encodeURIComponent(flow.name)}/versions/${flow.version}/activate`)
                        .then(flows.reload, (error: unknown) => toast.error(errorText(error)))
                    }
                  >
                    {t('nlp.activate')}
                  </Button>
                )}
              </Space>
            ),
          },
        ]}
      />
      {open && (
        <Card
          size="small"
          title={`${open.name} v${open.version}`}
          extra={
            <Button size="small" onClick={() => setOpen(null)}>
              ×
            </Button>
          }
          style={{ marginTop: 12 }}
        >
          <pre style={{ whiteSpace: 'pre-wrap', fontSize: 12, maxHeight: 480, overflow: 'auto' }}>{open.source ?? JSON.stringify(open, null, 2)}</pre>
        </Card>
      )}
    </Card>
  );
}
