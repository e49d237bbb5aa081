import { useEffect, useMemo, useRef, useState } from 'react';
import DOMPurify from 'dompurify';
import {
  Alert,
  App,
  Badge,
  Button,
  Card,
  Checkbox,
  Col,
  Descriptions,
  Drawer,
  Empty,
  Form,
  Input,
  List,
  Modal,
  Radio,
  Row,
  Select,
  Space,
  Table,
  Tabs,
  Tag,
  Tooltip,
  Typography,
  Upload,
} from 'antd';
import { DownloadOutlined, LikeOutlined, DislikeOutlined, PlusOutlined, MinusCircleOutlined } from '@ant-design/icons';
import { api, ApiError, withQuery } from '../api';
import { useAuth } from '../auth';
import { useI18n, type MessageKey } from '../i18n';
import { errorText, formatTime, itemsOf, SafeHtml, useLoad } from '../util';

export interface KbEntry {
  id: string;
  kbId: string;
  kind: 'faq' | 'article';
  title: string;
  questions: string[];
  answer: string;
  answerText: string;
  language: string | null;
  tags: string[];
  audience: 'public' | 'internal';
  status: 'draft' | 'published' | 'archived';
  teamId: string | null;
  version: number;
  publishedVersion: number | null;
  hasUnpublishedChanges: boolean;
  helpful: number;
  notHelpful: number;
  updatedBy: string | null;
  updatedAt: string;
  publishedAt: string | null;
}

interface KbVersion {
  version: number;
  action: string;
  authorId: string | null;
  authorName: string | null;
  createdAt: string;
  diff: string;
}

interface KbProposal {
  id: string;
  kind: 'new_faq' | 'new_variant';
  source: 'mining' | 'agent_answer';
  status: 'pending' | 'approved' | 'rejected';
  questions: string[];
  answer: string | null;
  entryId: string | null;
  language: string | null;
  occurrences: number;
  conversationIds: string[];
  createdAt: string;
  resultEntryId: string | null;
}

interface Unanswered {
  id: string;
  question: string;
  reason: string;
  language: string | null;
  createdAt: string;
}

/** The knowledge base's allow-list (the core sanitises answers the same way); DOMPurify drops everything else. */
const ANSWER_TAGS = [
  'p',
  'br',
  'b',
  'strong',
  'i',
  'em',
  'u',
  's',
  'ul',
  'ol',
  'li',
  'a',
  'code',
  'pre',
  'blockquote',
  'h3',
  'h4',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
];

export function sanitizeAnswer(html: string): string {
  return DOMPurify.sanitize(html, { ALLOWED_TAGS: ANSWER_TAGS, ALLOWED_ATTR: ['href', 'title'], ALLOW_DATA_ATTR: false });
}

/** Plain-text answers become paragraphs (as the core stores them); HTML goes through the allow-list. */
export function answerPreviewHtml(answer: string): string {
  if (/<[a-z][\s\S]*>/i.test(answer)) return sanitizeAnswer(answer);
  const escaped = answer.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
  return escaped
    .split(/\n{2,}/)
    .map((p) => `<p>${p.replace(/\n/g, '<br>')}</p>`)
    .join('');
}

/** Rich text: the answer rendered through the allow-list and then the console's SafeHtml (DOMPurify again). */
export function AnswerView({ html, testId }: { html: string; testId?: string }) {
  return (
    <div data-testid={testId} className="sb-kb-answer">
      <SafeHtml html={answerPreviewHtml(html)} />
    </div>
  );
}

const canEdit = (hasRole: (...roles: Array<'admin' | 'supervisor' | 'agent' | 'auditor' | 'integrator'>) => boolean) => hasRole('admin', 'supervisor');

export function KnowledgePage() {
  const { t } = useI18n();
  const { hasRole } = useAuth();
  const editor = canEdit(hasRole);
  const [tab, setTab] = useState('entries');
  return (
    <Card size="small" title={t('nav.knowledge')}>
      <Tabs
        activeKey={tab}
        onChange={setTab}
        items={[
          { key: 'entries', label: t('kb.entries'), children: <EntriesTab editor={editor} /> },
          ...(editor
            ? [
                { key: 'review', label: t('kb.review'), children: <ReviewTab /> },
                { key: 'io', label: t('kb.importExport'), children: <ImportExportTab /> },
              ]
            : []),
        ]}
      />
    </Card>
  );
}

// ---------------------------------------------------------------- entries

function EntriesTab({ editor }: { editor: boolean }) {
  const { t, lang } = useI18n();
  const [q, setQ] = useState('');
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState<string | undefined>();
  const [language, setLanguage] = useState<string | undefined>();
  const [audience, setAudience] = useState<string | undefined>();
  const [open, setOpen] = useState<{ id: string | null } | null>(null);
  const entries = useLoad(
    (signal) =>
      api
        .get<{ items: KbEntry[]; total: number }>('/api/v1/knowledge/entries', { q: search, status, language, audience, limit: 200 }, signal)
        .then((value) => ({ items: itemsOf<KbEntry>(value), total: (value as { total?: number }).total ?? 0 })),
    [search, status, language, audience],
  );
  return (
    <Space orientation="vertical" style={{ width: '100%' }} size={12}>
      <Space wrap>
        <Input.Search
          aria-label={t('kb.searchLabel')}
          placeholder={t('kb.searchPlaceholder')}
          data-testid="kb-search"
          allowClear
          value={q}
          onChange={(event) => setQ(event.target.value)}
          onSearch={(value) => setSearch(value.trim())}
          style={{ width: 280 }}
        />
        <Select
          aria-label={t('kb.status')}
          placeholder={t('kb.status')}
          allowClear
          value={status}
          onChange={setStatus}
          style={{ width: 150 }}
          options={(['draft', 'published', 'archived'] as const).map((value) => ({ value, label: t(`kb.status.${value}`) }))}
        />
        <Select
          aria-label={t('kb.language')}
          placeholder={t('kb.language')}
          allowClear
          value={language}
          onChange={setLanguage}
          style={{ width: 120 }}
          options={[
            { value: 'zh', label: '中文 (zh)' },
            { value: 'en', label: 'English (en)' },
          ]}
        />
        <Select
          aria-label={t('kb.audience')}
          placeholder={t('kb.audience')}
          allowClear
          value={audience}
          onChange={setAudience}
          style={{ width: 140 }}
          options={(['public', 'internal'] as const).map((value) => ({ value, label: t(`kb.audience.${value}`) }))}
        />
        {editor && (
          <Button type="primary" icon={<PlusOutlined />} data-testid="kb-new" onClick={() => setOpen({ id: null })}>
            {t('kb.new')}
          </Button>
        )}
      </Space>
      {Boolean(entries.error) && <Alert type="error" showIcon title={errorText(entries.error)} />}
      <Table<KbEntry>
        size="small"
        rowKey="id"
        data-testid="kb-table"
        loading={entries.loading}
        dataSource={entries.data?.items ?? []}
        pagination={{ pageSize: 50, hideOnSinglePage: true, showTotal: (total) => t('kb.total', { n: total }) }}
        onRow={(entry) => ({ onClick: () => setOpen({ id: entry.id }), style: { cursor: 'pointer' } })}
        columns={[
          {
            title: t('kb.title'),
            key: 'title',
            render: (_: unknown, entry) => (
              <Space orientation="vertical" size={0}>
                <Typography.Link data-testid="kb-entry-title" onClick={() => setOpen({ id: entry.id })}>
                  {entry.title}
                </Typography.Link>
                <Typography.Text type="secondary" ellipsis style={{ maxWidth: 520, fontSize: 12 }}>
                  {entry.answerText}
                </Typography.Text>
              </Space>
            ),
          },
          { title: t('kb.kind'), dataIndex: 'kind', width: 90, render: (value: string) => t(`kb.kind.${value}` as MessageKey) },
          { title: t('kb.language'), dataIndex: 'language', width: 70, render: (value: string | null) => value ?? '—' },
          { title: t('kb.variants'), key: 'q', width: 90, render: (_: unknown, entry) => entry.questions.length },
          {
            title: t('kb.tags'),
            dataIndex: 'tags',
            width: 160,
            render: (tags: string[]) => (
              <>
                {tags.map((tag) => (
                  <Tag key={tag}>{tag}</Tag>
                ))}
              </>
            ),
          },
          {
            title: t('kb.audience'),
            dataIndex: 'audience',
            width: 90,
            render: (value: string) => <Tag color={value === 'internal' ? 'purple' : 'blue'}>{t(`kb.audience.${value}` as MessageKey)}</Tag>,
          },
          {
            title: t('kb.status'),
            key: 's',
            width: 180,
            render: (_: unknown, entry) => <StatusTags entry={entry} />,
          },
          {
            title: t('kb.feedback'),
            key: 'f',
            width: 110,
            render: (_: unknown, entry) => (
              <span aria-label={t('kb.feedbackCounts', { helpful: entry.helpful, notHelpful: entry.notHelpful })}>
                <LikeOutlined /> {entry.helpful} · <DislikeOutlined /> {entry.notHelpful}
              </span>
            ),
          },
          { title: t('common.updated'), dataIndex: 'updatedAt', width: 130, render: (value: string) => formatTime(value, lang) },
        ]}
      />
      {open && <EntryDrawer id={open.id} editor={editor} onClose={() => setOpen(null)} onChanged={entries.reload} onCreated={(id) => setOpen({ id })} />}
    </Space>
  );
}

function StatusTags({ entry, testId = 'kb-status' }: { entry: KbEntry; testId?: string }) {
  const { t } = useI18n();
  return (
    <Space size={4} wrap data-testid={testId}>
      <Tag color={entry.status === 'published' ? 'green' : entry.status === 'archived' ? 'default' : 'gold'}>{t(`kb.status.${entry.status}`)}</Tag>
      {entry.hasUnpublishedChanges && <Tag color="orange">{t('kb.changed')}</Tag>}
    </Space>
  );
}

interface EntryForm {
  title: string;
  kind: 'faq' | 'article';
  questions: string[];
  answer: string;
  language: string | null;
  tags: string[];
  audience: 'public' | 'internal';
}

function EntryDrawer({
  id,
  editor,
  onClose,
  onChanged,
  onCreated,
}: {
  id: string | null;
  editor: boolean;
  onClose(): void;
  onChanged(): void;
  onCreated(id: string): void;
}) {
  const { t } = useI18n();
  const { message: toast } = App.useApp();
  const [form] = Form.useForm<EntryForm>();
  const [tab, setTab] = useState(editor ? 'edit' : 'preview');
  const [saving, setSaving] = useState(false);
  const [conflict, setConflict] = useState(false);
  const entry = useLoad((signal) => (id ? api.get<KbEntry>(`/api/v1/knowledge/entries/${id}`, undefined, signal) : Promise.resolve(null)), [id]);
  const current = entry.data ?? null;
  const answer = Form.useWatch('answer', form) ?? current?.answer ?? '';
  const questions = (Form.useWatch('questions', form) ?? current?.questions ?? []).filter(Boolean);

  useEffect(() => {
    if (!editor) return;
    if (current) {
      form.setFieldsValue({
        title: current.title,
        kind: current.kind,
        questions: current.questions,
        answer: current.answer,
        language: current.language,
        tags: current.tags,
        audience: current.audience,
      });
      setConflict(false);
    } else if (!id) form.setFieldsValue({ kind: 'faq', questions: [''], answer: '', language: null, tags: [], audience: 'public' });
  }, [current, id, form, editor]);

  const save = async (publish: boolean) => {
    const values = await form.validateFields();
    const body = { ...values, questions: values.questions.map((q) => q.trim()).filter(Boolean), language: values.language || null };
    setSaving(true);
    try {
      if (current) {
        await api.patch<KbEntry>(`/api/v1/knowledge/entries/${current.id}`, { ...body, expectedVersion: current.version, publish });
        entry.reload();
      } else {
        const created = await api.post<KbEntry>('/api/v1/knowledge/entries', { ...body, publish });
        onCreated(created.id);
      }
      toast.success(publish ? t('kb.publishedToast') : t('common.saved'));
      onChanged();
    } catch (error) {
      if (error instanceof ApiError && error.code === 'kb_version_conflict') setConflict(true);
      else toast.error(errorText(error));
    } finally {
      setSaving(false);
    }
  };
  const act = async (fn: () => Promise<unknown>, done: MessageKey = 'common.saved') => {
    try {
      await fn();
      toast.success(t(done));
      entry.reload();
      onChanged();
    } catch (error) {
      toast.error(errorText(error));
    }
  };

  const title = current ? current.title : t('kb.new');
  const publishable = current && (current.status !== 'published' || current.hasUnpublishedChanges);
  return (
    <Drawer
      open
      size={880}
      onClose={onClose}
      title={
        <Space>
          <span data-testid="kb-drawer-title">{title}</span>
          {current && <StatusTags entry={current} testId="kb-drawer-status" />}
          {current && <Typography.Text type="secondary">{t('kb.versionN', { n: current.version })}</Typography.Text>}
        </Space>
      }
      extra={
        editor &&
        current && (
          <Space>
            {publishable && (
              <Button
                type="primary"
                data-testid="kb-publish"
                onClick={() => void act(() => api.post(`/api/v1/knowledge/entries/${current.id}/publish`), 'kb.publishedToast')}
              >
                {t('kb.publish')}
              </Button>
            )}
            {current.status === 'published' && (
              <Button data-testid="kb-unpublish" onClick={() => void act(() => api.post(`/api/v1/knowledge/entries/${current.id}/unpublish`))}>
                {t('kb.unpublish')}
              </Button>
            )}
            {current.status !== 'archived' && (
              <Button
                danger
                data-testid="kb-archive"
                onClick={() =>
                  void act(async () => {
                    await api.del(`/api/v1/knowledge/entries/${current.id}`);
                    onClose();
                  })
                }
              >
                {t('kb.archive')}
              </Button>
            )}
          </Space>
        )
      }
    >
      {Boolean(entry.error) && <Alert type="error" showIcon title={errorText(entry.error)} />}
      {conflict && (
        <Alert
          type="warning"
          showIcon
          data-testid="kb-conflict"
          title={t('kb.conflict')}
          action={
            <Button size="small" onClick={() => entry.reload()}>
              {t('kb.reload')}
            </Button>
          }
          style={{ marginBottom: 12 }}
        />
      )}
      <Tabs
        activeKey={tab}
        onChange={setTab}
        items={[
          ...(editor
            ? [
                {
                  key: 'edit',
                  label: t('kb.edit'),
                  children: (
                    <Form form={form} layout="vertical" data-testid="kb-form" disabled={saving}>
                      <Row gutter={12}>
                        <Col span={16}>
                          <Form.Item name="title" label={t('kb.title')} rules={[{ max: 300 }]}>
                            <Input data-testid="kb-title" placeholder={t('kb.titlePlaceholder')} />
                          </Form.Item>
                        </Col>
                        <Col span={8}>
                          <Form.Item name="kind" label={t('kb.kind')}>
                            <Radio.Group
                              optionType="button"
                              options={[
                                { value: 'faq', label: t('kb.kind.faq') },
                                { value: 'article', label: t('kb.kind.article') },
                              ]}
                            />
                          </Form.Item>
                        </Col>
                      </Row>
                      <Form.Item label={t('kb.variants')} required tooltip={t('kb.variantsHelp')}>
                        <Form.List name="questions">
                          {(fields, { add, remove }) => (
                            <Space orientation="vertical" style={{ width: '100%' }} size={6}>
                              {fields.map((field, index) => (
                                <Space key={field.key} style={{ width: '100%' }} align="start">
                                  <Form.Item name={field.name} noStyle rules={[{ max: 500 }]}>
                                    <Input
                                      data-testid={`kb-variant-${index}`}
                                      aria-label={t('kb.variantN', { n: index + 1 })}
                                      placeholder={index === 0 ? t('kb.questionPlaceholder') : t('kb.variantPlaceholder')}
                                      style={{ width: 640 }}
                                    />
                                  </Form.Item>
                                  {fields.length > 1 && (
                                    <Button type="text" aria-label={t('kb.removeVariant')} icon={<MinusCircleOutlined />} onClick={() => remove(field.name)} />
                                  )}
                                </Space>
                              ))}
                              <Button type="dashed" icon={<PlusOutlined />} data-testid="kb-add-variant" onClick={() => add('')}>
                                {t('kb.addVariant')}
                              </Button>
                            </Space>
                          )}
                        </Form.List>
                      </Form.Item>
                      <Form.Item label={t('kb.answer')} required>
                        <AnswerEditor form={form} />
                      </Form.Item>
                      <Row gutter={12}>
                        <Col span={6}>
                          <Form.Item name="language" label={t('kb.language')}>
                            <Select
                              aria-label={t('kb.language')}
                              data-testid="kb-language"
                              options={[
                                { value: null, label: t('kb.anyLanguage') },
                                { value: 'zh', label: '中文 (zh)' },
                                { value: 'en', label: 'English (en)' },
                              ]}
                            />
                          </Form.Item>
                        </Col>
                        <Col span={10}>
                          <Form.Item name="tags" label={t('kb.tags')}>
                            <Select mode="tags" aria-label={t('kb.tags')} tokenSeparators={[',', '，']} />
                          </Form.Item>
                        </Col>
                        <Col span={8}>
                          <Form.Item name="audience" label={t('kb.audience')} tooltip={t('kb.audienceHelp')}>
                            <Radio.Group
                              optionType="button"
                              options={[
                                { value: 'public', label: t('kb.audience.public') },
                                { value: 'internal', label: t('kb.audience.internal') },
                              ]}
                            />
                          </Form.Item>
                        </Col>
                      </Row>
                      <Space>
                        <Button data-testid="kb-save" loading={saving} onClick={() => void save(false)}>
                          {current ? t('kb.saveDraft') : t('kb.createDraft')}
                        </Button>
                        <Button type="primary" data-testid="kb-save-publish" loading={saving} onClick={() => void save(true)}>
                          {t('kb.saveAndPublish')}
                        </Button>
                        <Typography.Text type="secondary">{t('kb.publishHelp')}</Typography.Text>
                      </Space>
                    </Form>
                  ),
                },
              ]
            : []),
          {
            key: 'preview',
            label: t('kb.preview'),
            children: (
              <Space orientation="vertical" style={{ width: '100%' }}>
                <Typography.Title level={5} style={{ marginTop: 0 }}>
                  {(editor ? form.getFieldValue('title') : undefined) || current?.title || questions[0] || '—'}
                </Typography.Title>
                <div>
                  {questions.map((question, index) => (
                    <Tag key={index} data-testid="kb-preview-variant">
                      {question}
                    </Tag>
                  ))}
                </div>
                <Card size="small">
                  <AnswerView html={editor ? answer : (current?.answer ?? '')} testId="kb-preview-answer" />
                </Card>
              </Space>
            ),
          },
          ...(current
            ? [
                {
                  key: 'history',
                  label: t('kb.history'),
                  children: <History entry={current} editor={editor} onRestored={() => (entry.reload(), onChanged())} />,
                },
                { key: 'feedback', label: t('kb.feedback'), children: <Feedback entry={current} onSent={() => (entry.reload(), onChanged())} /> },
              ]
            : []),
        ]}
      />
    </Drawer>
  );
}

/** HTML source with formatting buttons and a live preview through the allow-list. */
function AnswerEditor({ form }: { form: ReturnType<typeof Form.useForm<EntryForm>>[0] }) {
  const { t } = useI18n();
  const ref = useRef<HTMLTextAreaElement | null>(null);
  const answer: string = Form.useWatch('answer', form) ?? '';
  const wrap = (before: string, after: string, placeholder: string) => {
    const area = ref.current;
    const value: string = form.getFieldValue('answer') ?? '';
    const start = area?.selectionStart ?? value.length;
    const end = area?.selectionEnd ?? value.length;
    const selected = value.slice(start, end) || placeholder;
    form.setFieldValue('answer', value.slice(0, start) + before + selected + after + value.slice(end));
    requestAnimationFrame(() => {
      area?.focus();
      area?.setSelectionRange(start + before.length, start + before.length + selected.length);
    });
  };
  const tools: Array<[string, MessageKey, () => void]> = [
    ['B', 'kb.fmt.bold', () => wrap('<strong>', '</strong>', t('kb.fmt.text'))],
    ['I', 'kb.fmt.italic', () => wrap('<em>', '</em>', t('kb.fmt.text'))],
    ['¶', 'kb.fmt.paragraph', () => wrap('<p>', '</p>', t('kb.fmt.text'))],
    ['•', 'kb.fmt.bullets', () => wrap('<ul>\n  <li>', '</li>\n</ul>', t('kb.fmt.text'))],
    ['1.', 'kb.fmt.numbers', () => wrap('<ol>\n  <li>', '</li>\n</ol>', t('kb.fmt.text'))],
    ['🔗', 'kb.fmt.link', () => wrap('<a href="https://">', '</a>', t('kb.fmt.text'))],
    ['</>', 'kb.fmt.code', () => wrap('<code>', '</code>', 'code')],
  ];
  return (
    <Row gutter={12}>
      <Col span={12}>
        <Space size={4} style={{ marginBottom: 6 }} wrap>
          {tools.map(([label, key, run]) => (
            <Tooltip key={key} title={t(key)}>
              <Button size="small" aria-label={t(key)} onClick={run}>
                {label}
              </Button>
            </Tooltip>
          ))}
        </Space>
        <Form.Item name="answer" noStyle rules={[{ required: true, whitespace: true, message: t('common.required') }]}>
          <Input.TextArea
            ref={(instance) => {
              ref.current = instance?.resizableTextArea?.textArea ?? null;
            }}
            data-testid="kb-answer"
            aria-label={t('kb.answer')}
            autoSize={{ minRows: 8, maxRows: 20 }}
            style={{ fontFamily: 'ui-monospace, monospace', fontSize: 12 }}
          />
        </Form.Item>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t('kb.answerHelp')}
        </Typography.Text>
      </Col>
      <Col span={12}>
        <Typography.Text type="secondary">{t('kb.livePreview')}</Typography.Text>
        <Card size="small" style={{ marginTop: 6, minHeight: 160 }}>
          <AnswerView html={answer} testId="kb-live-preview" />
        </Card>
      </Col>
    </Row>
  );
}

export function DiffView({ diff }: { diff: string }) {
  const { t } = useI18n();
  if (!diff.trim()) return <Typography.Text type="secondary">{t('kb.noChanges')}</Typography.Text>;
  return (
    <pre data-testid="kb-diff" className="sb-diff" style={{ margin: 0, fontSize: 12, whiteSpace: 'pre-wrap', maxHeight: 360, overflow: 'auto' }}>
      {diff.split('\n').map((line, index) => {
        const added = line.startsWith('+ ');
        const removed = line.startsWith('- ');
        return (
          <div
            key={index}
            className={added ? 'sb-diff-add' : removed ? 'sb-diff-del' : undefined}
            style={{
              background: added ? '#e6ffec' : removed ? '#ffebe9' : undefined,
              color: added ? '#0a3622' : removed ? '#67060c' : undefined,
              padding: '0 6px',
            }}
          >
            {line}
          </div>
        );
      })}
    </pre>
  );
}

function History({ entry, editor, onRestored }: { entry: KbEntry; editor: boolean; onRestored(): void }) {
  const { t, lang } = useI18n();
  const { message: toast } = App.useApp();
  const versions = useLoad(
    (signal) => api.get(`/api/v1/knowledge/entries/${entry.id}/versions`, undefined, signal).then((value) => itemsOf<KbVersion>(value)),
    [entry.id, entry.version],
  );
  const [selected, setSelected] = useState<number | null>(null);
  const shown = versions.data?.find((version) => version.version === selected) ?? versions.data?.[0];
  return (
    <Row gutter={12} data-testid="kb-history">
      <Col span={10}>
        <List<KbVersion>
          size="small"
          bordered
          loading={versions.loading}
          dataSource={versions.data ?? []}
          renderItem={(version) => (
            <List.Item
              data-testid={`kb-version-${version.version}`}
              onClick={() => setSelected(version.version)}
              style={{ cursor: 'pointer', background: shown?.version === version.version ? '#e6f4ff' : undefined }}
            >
              <Space orientation="vertical" size={0}>
                <Space size={6}>
                  <Typography.Text strong>v{version.version}</Typography.Text>
                  <Tag>{t(`kb.action.${version.action}` as MessageKey)}</Tag>
                  {entry.publishedVersion === version.version && <Badge status="success" text={t('kb.live')} />}
                </Space>
                <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="kb-version-author">
                  {version.authorName ?? version.authorId ?? t('kb.system')} · {formatTime(version.createdAt, lang)}
                </Typography.Text>
              </Space>
            </List.Item>
          )}
        />
      </Col>
      <Col span={14}>
        {shown ? (
          <Card
            size="small"
            title={t('kb.changesIn', { n: shown.version })}
            extra={
              editor &&
              shown.version !== entry.version && (
                <Button
                  size="small"
                  data-testid="kb-restore"
                  onClick={() =>
                    void api.post(`/api/v1/knowledge/entries/${entry.id}/versions/${shown.version}/restore`).then(
                      () => {
                        toast.success(t('kb.restored', { n: shown.version }));
                        onRestored();
                      },
                      (error: unknown) => toast.error(errorText(error)),
                    )
                  }
                >
                  {t('kb.restore')}
                </Button>
              )
            }
          >
            <DiffView diff={shown.diff} />
          </Card>
        ) : (
          <Empty />
        )}
      </Col>
    </Row>
  );
}

function Feedback({ entry, onSent }: { entry: KbEntry; onSent(): void }) {
  const { t } = useI18n();
  const { message: toast } = App.useApp();
  const { hasRole } = useAuth();
  const total = entry.helpful + entry.notHelpful;
  const send = (helpful: boolean) =>
    void api.post(`/api/v1/knowledge/entries/${entry.id}/feedback`, { helpful }).then(
      () => {
        toast.success(t('kb.feedbackThanks'));
        onSent();
      },
      (error: unknown) => toast.error(errorText(error)),
    );
  return (
    <Space orientation="vertical" data-testid="kb-feedback">
      <Descriptions
        size="small"
        column={3}
        bordered
        items={[
          { key: 'h', label: t('kb.helpful'), children: <span data-testid="kb-helpful">{entry.helpful}</span> },
          { key: 'n', label: t('kb.notHelpful'), children: <span data-testid="kb-not-helpful">{entry.notHelpful}</span> },
          { key: 'r', label: t('kb.helpfulRate'), children: total ? `${Math.round((entry.helpful / total) * 100)}%` : '—' },
        ]}
      />
      <Typography.Text type="secondary">{t('kb.feedbackHelp')}</Typography.Text>
      {hasRole('admin', 'supervisor', 'agent') && (
        <Space>
          <Button icon={<LikeOutlined />} onClick={() => send(true)}>
            {t('kb.helpful')}
          </Button>
          <Button icon={<DislikeOutlined />} onClick={() => send(false)}>
            {t('kb.notHelpful')}
          </Button>
        </Space>
      )}
    </Space>
  );
}

// ---------------------------------------------------------------- review queue

function ReviewTab() {
  const { t, lang } = useI18n();
  const { message: toast } = App.useApp();
  const [status, setStatus] = useState<'pending' | 'approved' | 'rejected'>('pending');
  const proposals = useLoad(
    (signal) => api.get('/api/v1/knowledge/proposals', { status, limit: 200 }, signal).then((value) => itemsOf<KbProposal>(value)),
    [status],
  );
  const unanswered = useLoad((signal) => api.get('/api/v1/knowledge/unanswered', { limit: 100 }, signal).then((value) => itemsOf<Unanswered>(value)), []);
  const [approving, setApproving] = useState<KbProposal | null>(null);
  const mine = async () => {
    try {
      const result = await api.post<{ items: unknown[] }>('/api/v1/knowledge/mining/run', {});
      toast.success(t('kb.minedN', { n: itemsOf(result).length }));
      proposals.reload();
      unanswered.reload();
    } catch (error) {
      toast.error(errorText(error));
    }
  };
  const reject = (proposal: KbProposal) =>
    void api.post(`/api/v1/knowledge/proposals/${proposal.id}/reject`).then(
      () => {
        toast.success(t('kb.rejected'));
        proposals.reload();
      },
      (error: unknown) => toast.error(errorText(error)),
    );
  return (
    <Row gutter={16}>
      <Col span={16}>
        <Space style={{ marginBottom: 12 }} wrap>
          <Radio.Group
            optionType="button"
            value={status}
            onChange={(event) => setStatus(event.target.value as typeof status)}
            options={(['pending', 'approved', 'rejected'] as const).map((value) => ({ value, label: t(`kb.proposal.${value}`) }))}
          />
          <Button onClick={() => void mine()} data-testid="kb-mine">
            {t('kb.runMining')}
          </Button>
          <Typography.Text type="secondary">{t('kb.reviewHelp')}</Typography.Text>
        </Space>
        <Table<KbProposal>
          size="small"
          rowKey="id"
          data-testid="kb-proposals"
          loading={proposals.loading}
          dataSource={proposals.data ?? []}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          locale={{ emptyText: t('kb.noProposals') }}
          columns={[
            {
              title: t('kb.proposal'),
              key: 'p',
              render: (_: unknown, proposal) => (
                <Space orientation="vertical" size={2}>
                  <Space size={4}>
                    <Tag color={proposal.kind === 'new_faq' ? 'blue' : 'cyan'}>{t(`kb.proposalKind.${proposal.kind}`)}</Tag>
                    <Tag>{t(`kb.proposalSource.${proposal.source}`)}</Tag>
                    {proposal.language && <Tag>{proposal.language}</Tag>}
                  </Space>
                  <div>
                    {proposal.questions.slice(0, 8).map((question, index) => (
                      <Tag key={index} style={{ marginBottom: 2 }}>
                        {question}
                      </Tag>
                    ))}
                  </div>
                  {proposal.answer && (
                    <div style={{ fontSize: 12, color: 'rgba(0, 0, 0, 0.65)', maxHeight: 60, overflow: 'hidden' }}>
                      <AnswerView html={proposal.answer} testId="kb-proposal-answer" />
                    </div>
                  )}
                </Space>
              ),
            },
            { title: t('kb.occurrences'), dataIndex: 'occurrences', width: 90 },
            { title: t('common.created'), dataIndex: 'createdAt', width: 130, render: (value: string) => formatTime(value, lang) },
            {
              title: '',
              key: 'a',
              width: 170,
              render: (_: unknown, proposal) =>
                proposal.status === 'pending' ? (
                  <Space>
                    <Button size="small" type="primary" onClick={() => setApproving(proposal)}>
                      {t('kb.approve')}
                    </Button>
                    <Button size="small" danger onClick={() => reject(proposal)}>
                      {t('kb.reject')}
                    </Button>
                  </Space>
                ) : (
                  <Tag>{t(`kb.proposal.${proposal.status}`)}</Tag>
                ),
            },
          ]}
        />
      </Col>
      <Col span={8}>
        <Card size="small" title={t('kb.unanswered')}>
          <List<Unanswered>
            size="small"
            loading={unanswered.loading}
            dataSource={unanswered.data ?? []}
            locale={{ emptyText: t('kb.noUnanswered') }}
            renderItem={(item) => (
              <List.Item>
                <Space orientation="vertical" size={0}>
                  <Typography.Text>{item.question}</Typography.Text>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {item.reason} · {formatTime(item.createdAt, lang)}
                  </Typography.Text>
                </Space>
              </List.Item>
            )}
          />
        </Card>
      </Col>
      {approving && (
        <ApproveModal
          proposal={approving}
          onClose={() => setApproving(null)}
          onDone={() => {
            setApproving(null);
            proposals.reload();
          }}
        />
      )}
    </Row>
  );
}

function ApproveModal({ proposal, onClose, onDone }: { proposal: KbProposal; onClose(): void; onDone(): void }) {
  const { t } = useI18n();
  const { message: toast } = App.useApp();
  const [form] = Form.useForm<{ title?: string; questions: string[]; answer?: string; publish: boolean }>();
  const variant = proposal.kind === 'new_variant';
  const submit = async () => {
    const values = await form.validateFields();
    try {
      await api.post(`/api/v1/knowledge/proposals/${proposal.id}/approve`, {
        questions: values.questions,
        ...(values.answer?.trim() ? { answer: values.answer } : {}),
        ...(values.title?.trim() ? { title: values.title } : {}),
        publish: values.publish,
      });
      toast.success(t('kb.approved'));
      onDone();
    } catch (error) {
      toast.error(errorText(error));
    }
  };
  return (
    <Modal open title={t(variant ? 'kb.approveVariant' : 'kb.approveFaq')} onCancel={onClose} onOk={() => void submit()} okText={t('kb.approve')} width={640}>
      <Form form={form} layout="vertical" initialValues={{ questions: proposal.questions, answer: proposal.answer ?? '', publish: true }}>
        {!variant && (
          <Form.Item name="title" label={t('kb.title')}>
            <Input placeholder={proposal.questions[0]} />
          </Form.Item>
        )}
        <Form.Item name="questions" label={t('kb.variants')} rules={[{ required: true, type: 'array', min: 1, message: t('common.required') }]}>
          <Select mode="tags" aria-label={t('kb.variants')} />
        </Form.Item>
        <Form.Item
          name="answer"
          label={variant ? t('kb.answerOptional') : t('kb.answer')}
          rules={variant ? [] : [{ required: true, whitespace: true, message: t('kb.answerNeeded') }]}
        >
          <Input.TextArea autoSize={{ minRows: 3 }} />
        </Form.Item>
        <Form.Item name="publish" valuePropName="checked">
          <Checkbox>{t('kb.publishNow')}</Checkbox>
        </Form.Item>
      </Form>
    </Modal>
  );
}

// ---------------------------------------------------------------- import / export

function ImportExportTab() {
  const { t } = useI18n();
  const { message: toast } = App.useApp();
  const [format, setFormat] = useState<'json' | 'csv' | 'markdown'>('json');
  const [content, setContent] = useState('');
  const [publish, setPublish] = useState(false);
  const [result, setResult] = useState<{ created: number; updated: number; published: number } | null>(null);
  const exports = useMemo(
    () =>
      (['json', 'csv', 'markdown'] as const).map((value) => ({
        value,
        href: withQuery('/api/v1/knowledge/export', { format: value }),
        file: `knowledge.${value === 'markdown' ? 'md' : value}`,
      })),
    [],
  );
  const run = async () => {
    try {
      const value = await api.post<{ created: number; updated: number; published: number }>('/api/v1/knowledge/import', { format, content, publish });
      setResult(value);
      toast.success(t('kb.imported', { created: value.created, updated: value.updated, published: value.published }));
    } catch (error) {
      toast.error(errorText(error));
    }
  };
  return (
    <Row gutter={16}>
      <Col span={8}>
        <Card size="small" title={t('kb.export')}>
          <Space orientation="vertical">
            {exports.map((item) => (
              <Button key={item.value} icon={<DownloadOutlined />} href={item.href} download={item.file} data-testid={`kb-export-${item.value}`}>
                {t(`kb.format.${item.value}`)}
              </Button>
            ))}
          </Space>
        </Card>
      </Col>
      <Col span={16}>
        <Card size="small" title={t('kb.import')}>
          <Space orientation="vertical" style={{ width: '100%' }}>
            <Space wrap>
              <Radio.Group
                optionType="button"
                value={format}
                onChange={(event) => setFormat(event.target.value as typeof format)}
                options={(['json', 'csv', 'markdown'] as const).map((value) => ({ value, label: t(`kb.format.${value}`) }))}
              />
              <Upload
                accept=".json,.csv,.md,.markdown,.txt"
                showUploadList={false}
                beforeUpload={(file) => {
                  void file.text().then((text) => {
                    setContent(text);
                    if (/\.csv$/i.test(file.name)) setFormat('csv');
                    else if (/\.(md|markdown)$/i.test(file.name)) setFormat('markdown');
                    else if (/\.json$/i.test(file.name)) setFormat('json');
                  });
                  return false;
                }}
              >
                <Button>{t('kb.chooseFile')}</Button>
              </Upload>
              <Checkbox checked={publish} onChange={(event) => setPublish(event.target.checked)}>
                {t('kb.publishAll')}
              </Checkbox>
            </Space>
            <Input.TextArea
              aria-label={t('kb.importContent')}
              placeholder={t('kb.importPlaceholder')}
              value={content}
              onChange={(event) => setContent(event.target.value)}
              autoSize={{ minRows: 8, maxRows: 20 }}
              style={{ fontFamily: 'ui-monospace, monospace', fontSize: 12 }}
            />
            <Button type="primary" disabled={!content.trim()} onClick={() => void run()}>
              {t('kb.runImport')}
            </Button>
            {result && (
              <Alert type="success" showIcon title={t('kb.imported', { created: result.created, updated: result.updated, published: result.published })} />
            )}
          </Space>
        </Card>
      </Col>
    </Row>
  );
}
