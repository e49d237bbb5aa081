import { useEffect, useState } from 'react';
import { Alert, App, Button, Card, Col, Input, Progress, Row, Select, Space, Table, Tag, Typography, Upload } from 'antd';
import { UploadOutlined } from '@ant-design/icons';
import { api } from '../api';
import { useI18n } from '../i18n';
import { errorText, formatTime, itemsOf, percent, useLoad } from '../util';

interface Model {
  id: string;
  name: string;
  version: string;
  task: string;
  status: string;
  createdAt: string;
  activatedAt: string | null;
  metrics: {
    accuracy?: number;
    macro_f1?: number;
    confusions?: Array<{ expected: string; predicted: string; count: number }>;
    perClass?: Array<{ label: string; precision: number; recall: number; f1: number; support: number }>;
  } | null;
  labels: string[];
}
interface Job {
  id: string;
  name: string;
  task: string;
  status: string;
  progress: { phase?: string; percent?: number; epoch?: number } | null;
  metrics: Model['metrics'];
  modelVersion: string | null;
  error: string | null;
  createdAt: string;
}

/** CSV (`text,label`) or JSON lines (`{"text","label"}`) into examples. */
export function parseExamples(raw: string): Array<{ text: string; label: string }> {
  const lines = raw.split(/\r?\n/).filter((line) => line.trim());
  const examples: Array<{ text: string; label: string }> = [];
  for (const line of lines) {
    if (line.trim().startsWith('{')) {
      try {
        const value = JSON.parse(line) as { text?: unknown; label?: unknown };
        if (typeof value.text === 'string' && typeof value.label === 'string') examples.push({ text: value.text, label: value.label });
      } catch {
        // skip
      }
      continue;
    }
    const comma = line.lastIndexOf(',');
    if (comma <= 0) continue;
    const text = line.slice(0, comma).replace(/^"|"$/g, '').trim();
    const label = line.slice(comma + 1).trim();
    if (text && label && !(text === 'text' && label === 'label')) examples.push({ text, label });
  }
  return examples;
}

export function NlpPage() {
  const { t, lang } = useI18n();
  const { message: toast } = App.useApp();
  const models = useLoad((signal) => api.get('/api/v1/nlp/models', undefined, signal).then((value) => itemsOf<Model>(value)), []);
  const jobs = useLoad((signal) => api.get('/api/v1/nlp/training-jobs', undefined, signal).then((value) => itemsOf<Job>(value)), []);
  const [task, setTask] = useState<'intent' | 'emotion' | 'language'>('intent');
  const [examples, setExamples] = useState<Array<{ text: string; label: string }>>([]);
  const [selected, setSelected] = useState<Model | Job | null>(null);
  const [probe, setProbe] = useState<unknown>(null);
  const running = (jobs.data ?? []).some((job) => job.status === 'running');
  useEffect(() => {
    if (!running) return;
    const timer = setTimeout(jobs.reload, 1500);
    return () => clearTimeout(timer);
  }, [running, jobs.data, jobs.reload]);

  const act = async (fn: () => Promise<unknown>, done: string) => {
    try {
      await fn();
      toast.success(done);
      models.reload();
      jobs.reload();
    } catch (error) {
      toast.error(errorText(error));
    }
  };
  const report = selected?.metrics;
  const labels = [...new Set((report?.confusions ?? []).flatMap((entry) => [entry.expected, entry.predicted]))].sort();

  return (
    <Row gutter={12}>
      <Col xs={24} xl={14}>
        <Card title={t('nlp.models')} size="small">
          {models.error ? <Alert type="error" title={errorText(models.error)} /> : null}
          <Table<Model>
            size="small"
            rowKey="id"
            pagination={false}
            dataSource={models.data ?? []}
            onRow={(model) => ({ onClick: () => setSelected(model) })}
            columns={[
              { title: t('common.name'), dataIndex: 'name' },
              { title: t('nlp.version'), dataIndex: 'version', ellipsis: true },
              { title: t('nlp.task'), dataIndex: 'task' },
              { title: t('inbox.status'), dataIndex: 'status', render: (value: string) => <Tag color={value === 'active' ? 'green' : 'default'}>{value}</Tag> },
              { title: t('nlp.accuracy'), key: 'acc', render: (_: unknown, model) => percent(model.metrics?.accuracy) },
              {
                title: '',
                key: 'actions',
                render: (_: unknown, model) => (
                  <Space>
                    {model.status !== 'active' && (
                      <Button
                        size="small"
                        onClick={(event) => (
                          event.stopPropagation(),
                          void act(() => api.post(`/api/v1/nlp/models/${model.name}/activate`, { version: model.version }), t('nlp.activated'))
                        )}
                      >
                        {t('nlp.activate')}
                      </Button>
                    )}
                    {model.status === 'active' && (
                      <Button
                        size="small"
                        onClick={(event) => (
                          event.stopPropagation(),
                          void act(() => api.post(`/api/v1/nlp/models/${model.name}/rollback`), t('nlp.rolledBack'))
                        )}
                      >
                        {t('nlp.rollback')}
                      </Button>
                    )}
                  </Space>
                ),
              },
            ]}
          />
        </Card>
        <Card title={t('nlp.train')} size="small" style={{ marginTop: 12 }}>
          <Space wrap>
            <Select
              aria-label={t('nlp.task')}
              value={task}
              onChange={setTask}
              options={['intent', 'emotion', 'language'].map((value) => ({ value, label: value }))}
              style={{ width: 120 }}
            />
            <Upload
              accept=".csv,.jsonl,.txt"
              showUploadList={false}
              beforeUpload={(file) => {
                void file.text().then((raw) => setExamples(parseExamples(raw)));
                return false;
              }}
            >
              <Button icon={<UploadOutlined />}>{t('nlp.upload')}</Button>
            </Upload>
            <Typography.Text>{t('nlp.examples', { n: examples.length })}</Typography.Text>
            <Button
              type="primary"
              disabled={examples.length < 4}
              onClick={() => void act(() => api.post('/api/v1/nlp/training-jobs', { task, examples }), t('nlp.started'))}
            >
              {t('nlp.start')}
            </Button>
          </Space>
          <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
            {t('nlp.formatHelp')}
          </Typography.Paragraph>
          <Table<Job>
            size="small"
            rowKey="id"
            pagination={false}
            dataSource={jobs.data ?? []}
            onRow={(job) => ({ onClick: () => setSelected(job) })}
            columns={[
              { title: t('common.name'), dataIndex: 'name' },
              { title: t('nlp.task'), dataIndex: 'task' },
              { title: t('inbox.status'), dataIndex: 'status' },
              {
                title: t('nlp.progress'),
                key: 'p',
                render: (_: unknown, job) => (
                  <Progress
                    percent={Math.round(job.progress?.percent ?? (job.status === 'succeeded' ? 100 : 0))}
                    size="small"
                    status={job.status === 'failed' ? 'exception' : job.status === 'running' ? 'active' : undefined}
                  />
                ),
              },
              { title: t('common.created'), dataIndex: 'createdAt', render: (value: string) => formatTime(value, lang) },
            ]}
          />
        </Card>
      </Col>
      <Col xs={24} xl={10}>
        <Card title={t('nlp.report')} size="small">
          {!report ? (
            <Typography.Text type="secondary">{t('nlp.pickModel')}</Typography.Text>
          ) : (
            <>
              <Space>
                <Tag>
                  {t('nlp.accuracy')}: {percent(report.accuracy)}
                </Tag>
                <Tag>macro-F1: {percent(report.macro_f1)}</Tag>
              </Space>
              <Table
                size="small"
                rowKey="label"
                pagination={false}
                dataSource={report.perClass ?? []}
                style={{ marginTop: 8 }}
                columns={[
                  { title: t('nlp.label'), dataIndex: 'label' },
                  { title: 'P', dataIndex: 'precision', render: (value: number) => percent(value) },
                  { title: 'R', dataIndex: 'recall', render: (value: number) => percent(value) },
                  { title: 'F1', dataIndex: 'f1', render: (value: number) => percent(value) },
                  { title: 'n', dataIndex: 'support' },
                ]}
              />
              <Typography.Title level={4} style={{ fontSize: 14, marginTop: 12 }}>
                {t('nlp.confusion')}
              </Typography.Title>
              {labels.length === 0 ? (
                <Typography.Text type="secondary">{t('common.none')}</Typography.Text>
              ) : (
                <table style={{ borderCollapse: 'collapse', fontSize: 12 }} aria-label={t('nlp.confusion')}>
                  <thead>
                    <tr>
                      <th scope="col">{t('nlp.expectedPredicted')}</th>
                      {labels.map((label) => (
                        <th key={label} scope="col" style={{ padding: 4 }}>
                          {label}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {labels.map((expected) => (
                      <tr key={expected}>
                        <th scope="row" style={{ padding: 4, textAlign: 'left' }}>
                          {expected}
                        </th>
                        {labels.map((predicted) => {
                          const count = report.confusions?.find((entry) => entry.expected === expected && entry.predicted === predicted)?.count ?? 0;
                          return (
                            <td
                              key={predicted}
                              style={{
                                padding: 4,
                                textAlign: 'center',
                                background: count ? `rgba(207, 19, 34, ${Math.min(0.8, 0.15 + count / 10)})` : '#fafafa',
                                color: count > 4 ? '#fff' : undefined,
                              }}
                            >
                              {count || ''}
                            </td>
                          );
                        })}
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </>
          )}
        </Card>
        <Card title={t('nlp.tryIt')} size="small" style={{ marginTop: 12 }}>
          <Input.Search
            aria-label={t('nlp.tryIt')}
            enterButton={t('nlp.annotate')}
            onSearch={(text) =>
              text.trim() && void api.post('/api/v1/nlp/annotate', { text }).then(setProbe, (error: Error) => setProbe({ error: error.message }))
            }
          />
          {probe !== null && <pre style={{ whiteSpace: 'pre-wrap', fontSize: 12 }}>{JSON.stringify(probe, null, 2)}</pre>}
        </Card>
      </Col>
    </Row>
  );
}
