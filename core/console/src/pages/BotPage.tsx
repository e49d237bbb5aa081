import { useEffect, useImperativeHandle, useMemo, useRef, useState, type CSSProperties, type ReactNode, type Ref } from 'react';
import {
  Alert,
  App,
  Button,
  Card,
  Checkbox,
  Col,
  Collapse,
  Descriptions,
  Empty,
  Form,
  Input,
  InputNumber,
  Row,
  Segmented,
  Select,
  Space,
  Switch,
  Table,
  Tabs,
  Tag,
  Timeline,
  Typography,
} from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { api, ApiError } from '../api';
import { useI18n, type MessageKey } from '../i18n';
import type { Inbox } from '../types';
import { errorText, formatTime, itemsOf, useLoad } from '../util';

type LocalText = string | Record<string, string>;

interface BotConfig {
  enabled: boolean;
  kbId: string;
  defaultLanguage: string;
  greeting: LocalText | null;
  businessHours: { timezone: string; days: number[]; open: string; close: string } | null;
  offHoursMessage: LocalText | null;
  thresholds: { high: number; medium: number; margin: number; minSupport: number };
  handoverPhrases: string[];
  startOverPhrases: string[];
  maxFailedTurns: number;
  handoverOnAnger: boolean;
  negativeStreak: number;
  handoverOnVip: boolean;
  resolveOnThanks: boolean;
  askFeedback: boolean;
  flows: string[];
  allowedPrivateHosts: string[];
  handoverTeamId: string | null;
  messages: Record<string, LocalText>;
}

interface ConfigView {
  inboxId: string;
  version: number;
  configured: boolean;
  config: BotConfig;
}

interface FlowVersion {
  id: string;
  name: string;
  version: number;
  status: string;
  format: 'json' | 'yaml';
  source?: string;
  createdBy: string | null;
  createdAt: string;
}

export interface FlowProblem {
  message: string;
  path?: string;
  line?: number;
  column?: number;
}

type Condition =
  | { path: string; equals?: unknown; notEquals?: unknown; in?: unknown[]; exists?: boolean; matches?: string; gte?: number; lte?: number }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };
interface Branch {
  when?: Condition;
  goto: string;
}
interface FlowStep {
  id: string;
  type: 'ask' | 'call' | 'branch' | 'reply' | 'handover' | 'set';
  slot?: string;
  entity?: string;
  pattern?: string;
  prompt?: LocalText;
  invalid?: LocalText;
  maxAttempts?: number;
  onFail?: string;
  next?: string | Branch[];
  http?: { method?: string; url: string };
  plugin?: Record<string, unknown>;
  result?: string;
  onError?: string;
  branches?: Branch[];
  default?: string;
  text?: LocalText;
  end?: boolean;
  slots?: Record<string, string>;
}
export interface FlowDefinition {
  name: string;
  description?: string;
  trigger?: { intents?: string[]; phrases?: string[]; minConfidence?: number };
  timeoutSeconds?: number;
  timeoutMessage?: LocalText;
  start?: string;
  steps: FlowStep[];
}

interface DryRun {
  triggerPhraseMatched: boolean | null;
  transcript: Array<{ from: 'customer' | 'bot'; text: string }>;
  trace: Array<{ turn: number; stepId: string; type: string; note: string }>;
  slots: Record<string, string>;
  outcome: 'waiting' | 'done' | 'handover';
  stepId: string | null;
}

export function BotPage() {
  const { t } = useI18n();
  return (
    <Card size="small" title={t('nav.bot')}>
      <Tabs
        items={[
          { key: 'inboxes', label: t('bot.inboxSettings'), children: <InboxSettings /> },
          { key: 'flows', label: t('bot.flows'), children: <Flows /> },
        ]}
      />
      <Typography.Paragraph type="secondary" style={{ marginTop: 12, marginBottom: 0 }}>
        {t('bot.containment')}
      </Typography.Paragraph>
    </Card>
  );
}

// ---------------------------------------------------------------- per-inbox settings

const MESSAGE_KEYS = ['clarify', 'suggest', 'handover', 'handoverOffHours', 'thanks', 'startOver', 'flowTimeout', 'feedbackThanks', 'feedbackPrompt'] as const;
const DAYS = [1, 2, 3, 4, 5, 6, 0];

const textFields = (value: LocalText | null | undefined) =>
  value === null || value === undefined
    ? { en: '', zh: '' }
    : typeof value === 'string'
      ? { en: value, zh: value }
      : { en: value.en ?? '', zh: value.zh ?? '' };

/** Form values back to `{ en, zh }` (other stored languages kept); empty → null. */
export function localTextOf(fields: { en?: string; zh?: string } | undefined, original: LocalText | null | undefined): LocalText | null {
  const merged: Record<string, string> = { ...(original && typeof original === 'object' ? original : {}) };
  delete merged.en;
  delete merged.zh;
  if (fields?.en?.trim()) merged.en = fields.en;
  if (fields?.zh?.trim()) merged.zh = fields.zh;
  return Object.keys(merged).length ? merged : null;
}

interface SettingsForm {
  enabled: boolean;
  defaultLanguage: string;
  kbId: string;
  greeting: { en: string; zh: string };
  hoursEnabled: boolean;
  hours: { timezone: string; days: number[]; open: string; close: string };
  offHoursMessage: { en: string; zh: string };
  thresholds: BotConfig['thresholds'];
  handoverPhrases: string[];
  startOverPhrases: string[];
  maxFailedTurns: number;
  handoverOnAnger: boolean;
  negativeStreak: number;
  handoverOnVip: boolean;
  resolveOnThanks: boolean;
  askFeedback: boolean;
  flows: string[];
  allowedPrivateHosts: string[];
  handoverTeamId: string | null;
  messages: Record<string, { en: string; zh: string }>;
}

function InboxSettings() {
  const { t } = useI18n();
  const { message: toast } = App.useApp();
  const inboxes = useLoad((signal) => api.get('/api/v1/inboxes', undefined, signal).then((value) => itemsOf<Inbox>(value)), []);
  const flows = useLoad((signal) => api.get('/api/v1/bot/flows', undefined, signal).then((value) => itemsOf<FlowVersion>(value)), []);
  const teams = useLoad(
    (signal) =>
      api
        .get('/api/v1/teams', undefined, signal)
        .then((value) => itemsOf<{ id: string; name: string }>(value))
        .catch(() => []),
    [],
  );
  const [inboxId, setInboxId] = useState<string | undefined>();
  useEffect(() => {
    if (!inboxId && inboxes.data?.length) setInboxId((inboxes.data.find((inbox) => inbox.channel === 'webchat') ?? inboxes.data[0])!.id);
  }, [inboxes.data, inboxId]);
  const view = useLoad(
    (signal) => (inboxId ? api.get<ConfigView>(`/api/v1/bot/inboxes/${inboxId}/config`, undefined, signal) : Promise.resolve(null)),
    [inboxId],
  );
  const [form] = Form.useForm<SettingsForm>();
  const [problems, setProblems] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const hoursEnabled = Form.useWatch('hoursEnabled', form);

  useEffect(() => {
    const config = view.data?.config;
    if (!config) return;
    setProblems([]);
    form.setFieldsValue({
      enabled: view.data!.configured ? config.enabled : false,
      defaultLanguage: config.defaultLanguage,
      kbId: config.kbId,
      greeting: textFields(config.greeting),
      hoursEnabled: config.businessHours !== null,
      hours: config.businessHours ?? { timezone: 'Asia/Shanghai', days: [1, 2, 3, 4, 5], open: '09:00', close: '18:00' },
      offHoursMessage: textFields(config.offHoursMessage),
      thresholds: config.thresholds,
      handoverPhrases: config.handoverPhrases,
      startOverPhrases: config.startOverPhrases,
      maxFailedTurns: config.maxFailedTurns,
      handoverOnAnger: config.handoverOnAnger,
      negativeStreak: config.negativeStreak,
      handoverOnVip: config.handoverOnVip,
      resolveOnThanks: config.resolveOnThanks,
      askFeedback: config.askFeedback,
      flows: config.flows,
      allowedPrivateHosts: config.allowedPrivateHosts,
      handoverTeamId: config.handoverTeamId,
      messages: Object.fromEntries(MESSAGE_KEYS.map((key) => [key, textFields(config.messages[key])])),
    });
  }, [view.data, form]);

  const save = async () => {
    if (!inboxId || !view.data) return;
    const values = await form.validateFields();
    const original = view.data.config;
    const messages: Record<string, LocalText> = {};
    for (const key of MESSAGE_KEYS) {
      const text = localTextOf(values.messages?.[key], original.messages[key]);
      if (text !== null) messages[key] = text;
    }
    const config: Partial<BotConfig> = {
      enabled: values.enabled,
      defaultLanguage: values.defaultLanguage,
      kbId: values.kbId,
      greeting: localTextOf(values.greeting, original.greeting),
      businessHours: values.hoursEnabled ? values.hours : null,
      offHoursMessage: localTextOf(values.offHoursMessage, original.offHoursMessage),
      thresholds: values.thresholds,
      handoverPhrases: values.handoverPhrases ?? [],
      startOverPhrases: values.startOverPhrases ?? [],
      maxFailedTurns: values.maxFailedTurns,
      handoverOnAnger: values.handoverOnAnger,
      negativeStreak: values.negativeStreak,
      handoverOnVip: values.handoverOnVip,
      resolveOnThanks: values.resolveOnThanks,
      askFeedback: values.askFeedback,
      flows: values.flows ?? [],
      allowedPrivateHosts: values.allowedPrivateHosts ?? [],
      handoverTeamId: values.handoverTeamId ?? null,
      messages,
    };
    setSaving(true);
    try {
      const saved = await api.put<ConfigView>(`/api/v1/bot/inboxes/${inboxId}/config`, { config });
      view.setData(saved);
      setProblems([]);
      toast.success(t('bot.configSaved', { n: saved.version }));
    } catch (error) {
      const details = error instanceof ApiError ? (error.details as { problems?: string[] } | undefined) : undefined;
      if (details?.problems?.length) setProblems(details.problems);
      else toast.error(errorText(error));
    } finally {
      setSaving(false);
    }
  };

  const activeFlows = [...new Set((flows.data ?? []).filter((flow) => flow.status === 'active').map((flow) => flow.name))];
  const textPair = (name: string | string[], label: ReactNode, rows = 1) => (
    <Form.Item label={label} style={{ marginBottom: 8 }}>
      <Row gutter={8}>
        {(['en', 'zh'] as const).map((language) => (
          <Col span={12} key={language}>
            <Form.Item name={[...(Array.isArray(name) ? name : [name]), language]} noStyle>
              <Input.TextArea
                autoSize={{ minRows: rows, maxRows: 4 }}
                aria-label={`${typeof label === 'string' ? label : ''} (${language})`}
                placeholder={language === 'en' ? 'English' : '中文'}
                data-testid={`bot-${Array.isArray(name) ? name.join('-') : name}-${language}`}
              />
            </Form.Item>
          </Col>
        ))}
      </Row>
    </Form.Item>
  );

  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Space wrap>
        <Typography.Text>{t('bot.inbox')}</Typography.Text>
        <Select
          aria-label={t('bot.inbox')}
          data-testid="bot-inbox"
          value={inboxId}
          onChange={setInboxId}
          style={{ width: 320 }}
          loading={inboxes.loading}
          options={(inboxes.data ?? []).map((inbox) => ({ value: inbox.id, label: `${inbox.name} · ${inbox.channel}` }))}
        />
        {view.data && (
          <Typography.Text type="secondary" data-testid="bot-config-version">
            {view.data.configured ? t('bot.configVersion', { n: view.data.version }) : t('bot.notConfigured')}
          </Typography.Text>
        )}
      </Space>
      {!inboxes.loading && !inboxes.data?.length && <Empty description={t('bot.noInboxes')} />}
      {Boolean(view.error) && <Alert type="error" showIcon title={errorText(view.error)} />}
      {problems.length > 0 && (
        <Alert
          type="error"
          showIcon
          data-testid="bot-config-problems"
          title={t('bot.configInvalid')}
          description={
            <ul style={{ margin: 0, paddingLeft: 18 }}>
              {problems.map((problem, index) => (
                <li key={index}>{problem}</li>
              ))}
            </ul>
          }
        />
      )}
      {view.data && (
        <Form form={form} layout="vertical" data-testid="bot-settings" disabled={saving}>
          <Row gutter={16}>
            <Col span={12}>
              <Card size="small" title={t('bot.general')}>
                <Space size="large" wrap>
                  <Form.Item name="enabled" label={t('bot.enabled')} valuePropName="checked">
                    <Switch data-testid="bot-enabled" />
                  </Form.Item>
                  <Form.Item name="defaultLanguage" label={t('bot.defaultLanguage')}>
                    <Select
                      style={{ width: 140 }}
                      options={[
                        { value: 'zh', label: '中文 (zh)' },
                        { value: 'en', label: 'English (en)' },
                      ]}
                    />
                  </Form.Item>
                  <Form.Item name="kbId" label={t('bot.kbId')} rules={[{ required: true, pattern: /^[A-Za-z0-9_.-]{1,64}$/ }]}>
                    <Input style={{ width: 140 }} />
                  </Form.Item>
                </Space>
                {textPair('greeting', t('bot.greeting'), 2)}
                <Form.Item name="flows" label={t('bot.inboxFlows')} tooltip={t('bot.inboxFlowsHelp')}>
                  <Select mode="multiple" aria-label={t('bot.inboxFlows')} options={activeFlows.map((name) => ({ value: name, label: name }))} />
                </Form.Item>
              </Card>
              <Card size="small" title={t('bot.businessHours')} style={{ marginTop: 12 }}>
                <Form.Item name="hoursEnabled" label={t('bot.hoursEnabled')} valuePropName="checked">
                  <Switch />
                </Form.Item>
                {hoursEnabled && (
                  <>
                    <Space wrap>
                      <Form.Item name={['hours', 'timezone']} label={t('bot.timezone')} rules={[{ required: true }]}>
                        <Input style={{ width: 180 }} />
                      </Form.Item>
                      <Form.Item
                        name={['hours', 'open']}
                        label={t('bot.open')}
                        rules={[{ required: true, pattern: /^([01]\d|2[0-3]):[0-5]\d$/, message: 'HH:MM' }]}
                      >
                        <Input style={{ width: 90 }} />
                      </Form.Item>
                      <Form.Item
                        name={['hours', 'close']}
                        label={t('bot.close')}
                        rules={[{ required: true, pattern: /^([01]\d|2[0-3]):[0-5]\d$/, message: 'HH:MM' }]}
                      >
                        <Input style={{ width: 90 }} />
                      </Form.Item>
                    </Space>
                    <Form.Item name={['hours', 'days']} label={t('bot.days')}>
                      <Checkbox.Group options={DAYS.map((day) => ({ value: day, label: t(`bot.day.${day}` as MessageKey) }))} />
                    </Form.Item>
                  </>
                )}
                {textPair('offHoursMessage', t('bot.offHoursMessage'), 2)}
              </Card>
            </Col>
            <Col span={12}>
              <Card size="small" title={t('bot.thresholds')}>
                <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
                  {t('bot.thresholdsHelp')}
                </Typography.Paragraph>
                <Space wrap>
                  {(['high', 'medium', 'margin', 'minSupport'] as const).map((key) => (
                    <Form.Item key={key} name={['thresholds', key]} label={t(`bot.threshold.${key}`)} rules={[{ required: true }]}>
                      <InputNumber min={0} max={1} step={0.01} style={{ width: 110 }} data-testid={`bot-threshold-${key}`} />
                    </Form.Item>
                  ))}
                </Space>
              </Card>
              <Card size="small" title={t('bot.handover')} style={{ marginTop: 12 }}>
                <Form.Item name="handoverPhrases" label={t('bot.handoverPhrases')} tooltip={t('bot.handoverPhrasesHelp')}>
                  <Select mode="tags" aria-label={t('bot.handoverPhrases')} data-testid="bot-handover-phrases" tokenSeparators={[',', '，']} />
                </Form.Item>
                <Form.Item name="startOverPhrases" label={t('bot.startOverPhrases')}>
                  <Select mode="tags" aria-label={t('bot.startOverPhrases')} tokenSeparators={[',', '，']} />
                </Form.Item>
                <Space wrap size="large">
                  <Form.Item name="maxFailedTurns" label={t('bot.maxFailedTurns')} rules={[{ required: true }]}>
                    <InputNumber min={1} max={20} />
                  </Form.Item>
                  <Form.Item name="negativeStreak" label={t('bot.negativeStreak')} tooltip={t('bot.negativeStreakHelp')} rules={[{ required: true }]}>
                    <InputNumber min={0} max={20} />
                  </Form.Item>
                  <Form.Item name="handoverOnAnger" label={t('bot.handoverOnAnger')} valuePropName="checked">
                    <Switch />
                  </Form.Item>
                  <Form.Item name="handoverOnVip" label={t('bot.handoverOnVip')} valuePropName="checked">
                    <Switch />
                  </Form.Item>
                </Space>
                <Form.Item name="handoverTeamId" label={t('bot.handoverTeam')}>
                  <Select
                    allowClear
                    aria-label={t('bot.handoverTeam')}
                    placeholder={t('bot.inboxTeam')}
                    options={(teams.data ?? []).map((team) => ({ value: team.id, label: team.name }))}
                  />
                </Form.Item>
                <Space wrap size="large">
                  <Form.Item name="resolveOnThanks" label={t('bot.resolveOnThanks')} valuePropName="checked">
                    <Switch />
                  </Form.Item>
                  <Form.Item name="askFeedback" label={t('bot.askFeedback')} valuePropName="checked">
                    <Switch />
                  </Form.Item>
                </Space>
                <Form.Item name="allowedPrivateHosts" label={t('bot.allowedPrivateHosts')} tooltip={t('bot.allowedPrivateHostsHelp')}>
                  <Select mode="tags" aria-label={t('bot.allowedPrivateHosts')} />
                </Form.Item>
              </Card>
            </Col>
          </Row>
          <Collapse
            style={{ marginTop: 12 }}
            items={[
              {
                key: 'messages',
                label: t('bot.messages'),
                children: MESSAGE_KEYS.map((key) => <div key={key}>{textPair(['messages', key], t(`bot.message.${key}`))}</div>),
              },
            ]}
          />
          <Space style={{ marginTop: 12 }}>
            <Button type="primary" data-testid="bot-settings-save" loading={saving} onClick={() => void save()}>
              {t('common.save')}
            </Button>
          </Space>
        </Form>
      )}
    </Space>
  );
}

// ---------------------------------------------------------------- flows

const NEW_FLOW = `# A flow: steps ask for slots, call a service, branch on the result and reply.
name: new_flow
description: Describe what this flow does
trigger:
  phrases: ['example phrase', '示例短语']
timeoutSeconds: 300
steps:
  - id: ask_order
    type: ask
    slot: order_number
    entity: order_number
    prompt:
      en: 'What is your order number?'
      zh: '请提供您的订单号。'
    invalid:
      en: 'That does not look like an order number.'
      zh: '订单号格式不正确。'
    maxAttempts: 3
    onFail: handover
  - id: done
    type: reply
    text:
      en: 'Thanks, I noted order {{slots.order_number}}.'
      zh: '好的，已记录订单 {{slots.order_number}}。'
    end: true
`;

interface Editing {
  name: string | null;
  version: number | null;
  format: 'json' | 'yaml';
  source: string;
}

function Flows() {
  const { t, lang } = useI18n();
  const { message: toast } = App.useApp();
  const flows = useLoad((signal) => api.get('/api/v1/bot/flows', undefined, signal).then((value) => itemsOf<FlowVersion>(value)), []);
  const [editing, setEditing] = useState<Editing | null>(null);
  const byName = useMemo(() => {
    const groups = new Map<string, FlowVersion[]>();
    for (const flow of flows.data ?? []) groups.set(flow.name, [...(groups.get(flow.name) ?? []), flow]);
    return [...groups.entries()].map(([name, versions]) => ({
      name,
      versions: versions.sort((a, b) => b.version - a.version),
      active: versions.find((flow) => flow.status === 'active') ?? null,
    }));
  }, [flows.data]);

  const open = async (flow: FlowVersion) => {
    try {
      const full = await api.get<FlowVersion>(`/api/v1/bot/flows/${encodeURIComponent(flow.name)}/versions/${flow.version}`);
      setEditing({ name: full.name, version: full.version, format: full.format, source: full.source ?? '' });
    } catch (error) {
      toast.error(errorText(error));
    }
  };
  const activate = async (flow: FlowVersion) => {
    try {
      await api.post(`/api/v1/bot/flows/${encodeURIComponent(flow.name)}/versions/${flow.version}/activate`);
      toast.success(t('bot.activated', { name: flow.name, n: flow.version }));
      flows.reload();
    } catch (error) {
      toast.error(errorText(error));
    }
  };

  return (
    <Space orientation="vertical" style={{ width: '100%' }} size={12}>
      <Space>
        <Button icon={<PlusOutlined />} data-testid="flow-new" onClick={() => setEditing({ name: null, version: null, format: 'yaml', source: NEW_FLOW })}>
          {t('bot.newFlow')}
        </Button>
      </Space>
      <Table
        size="small"
        rowKey="name"
        data-testid="flows-table"
        loading={flows.loading}
        dataSource={byName}
        pagination={false}
        locale={{ emptyText: t('bot.noFlows') }}
        expandable={{
          expandedRowRender: (group) => (
            <Table<FlowVersion>
              size="small"
              rowKey="id"
              dataSource={group.versions}
              pagination={false}
              columns={[
                { title: t('bot.version'), dataIndex: 'version', width: 90, render: (value: number) => `v${value}` },
                {
                  title: t('bot.status'),
                  dataIndex: 'status',
                  width: 110,
                  render: (value: string) => <Tag color={value === 'active' ? 'green' : 'default'}>{t(`bot.flowStatus.${value}` as MessageKey)}</Tag>,
                },
                { title: t('bot.format'), dataIndex: 'format', width: 80 },
                { title: t('bot.author'), dataIndex: 'createdBy', render: (value: string | null) => value ?? '—' },
                { title: t('common.created'), dataIndex: 'createdAt', width: 150, render: (value: string) => formatTime(value, lang) },
                {
                  title: '',
                  key: 'a',
                  width: 200,
                  render: (_: unknown, flow) => (
                    <Space>
                      <Button size="small" data-testid={`flow-open-${flow.name}-${flow.version}`} onClick={() => void open(flow)}>
                        {t('bot.openInEditor')}
                      </Button>
                      {flow.status !== 'active' && (
                        <Button size="small" onClick={() => void activate(flow)}>
                          {t('bot.activate')}
                        </Button>
                      )}
                    </Space>
                  ),
                },
              ]}
            />
          ),
        }}
        columns={[
          { title: t('common.name'), dataIndex: 'name', render: (value: string) => <Typography.Text strong>{value}</Typography.Text> },
          {
            title: t('bot.activeVersion'),
            key: 'active',
            width: 140,
            render: (_: unknown, group) => (group.active ? <Tag color="green">v{group.active.version}</Tag> : <Tag>{t('bot.noneActive')}</Tag>),
          },
          { title: t('bot.versions'), key: 'n', width: 100, render: (_: unknown, group) => group.versions.length },
          {
            title: '',
            key: 'a',
            width: 140,
            render: (_: unknown, group) => (
              <Button size="small" type="primary" data-testid={`flow-edit-${group.name}`} onClick={() => void open(group.active ?? group.versions[0]!)}>
                {t('bot.edit')}
              </Button>
            ),
          },
        ]}
      />
      {editing && (
        <FlowEditor
          key={`${editing.name ?? 'new'}:${editing.version ?? 0}`}
          initial={editing}
          onClose={() => setEditing(null)}
          onSaved={(flow) => {
            flows.reload();
            setEditing({ name: flow.name, version: flow.version, format: flow.format, source: flow.source ?? '' });
          }}
        />
      )}
    </Space>
  );
}

function FlowEditor({ initial, onClose, onSaved }: { initial: Editing; onClose(): void; onSaved(flow: FlowVersion): void }) {
  const { t } = useI18n();
  const { message: toast } = App.useApp();
  const [format, setFormat] = useState(initial.format);
  const [source, setSource] = useState(initial.source);
  const [problems, setProblems] = useState<FlowProblem[]>([]);
  const [definition, setDefinition] = useState<FlowDefinition | null>(null);
  const [checking, setChecking] = useState(false);
  const [activate, setActivate] = useState(true);
  const [saving, setSaving] = useState(false);
  const editorRef = useRef<CodeEditorHandle | null>(null);

  // Server-side validation, debounced while typing.
  useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      setChecking(true);
      api
        .post<{ valid: boolean; problems: FlowProblem[]; definition?: FlowDefinition }>('/api/v1/bot/flows/validate', { format, source: source || ' ' })
        .then(
          (check) => {
            if (controller.signal.aborted) return;
            setProblems(check.problems);
            setDefinition(check.valid ? (check.definition ?? null) : null);
          },
          (error: unknown) => !controller.signal.aborted && setProblems([{ message: errorText(error) }]),
        )
        .finally(() => !controller.signal.aborted && setChecking(false));
    }, 500);
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [format, source]);

  const switchFormat = (next: 'json' | 'yaml') => {
    // JSON is valid YAML; YAML becomes JSON through the validated definition.
    if (next === 'json' && definition) setSource(JSON.stringify(definition, null, 2) + '\n');
    setFormat(next);
  };

  const save = async () => {
    setSaving(true);
    try {
      const saved = await api.post<FlowVersion>('/api/v1/bot/flows', { format, source, activate });
      toast.success(t('bot.flowSaved', { name: saved.name, n: saved.version }));
      onSaved(saved);
    } catch (error) {
      const details = error instanceof ApiError ? (error.details as { problems?: Array<string | FlowProblem> } | undefined) : undefined;
      if (details?.problems?.length) setProblems(details.problems.map((problem) => (typeof problem === 'string' ? { message: problem } : problem)));
      else toast.error(errorText(error));
    } finally {
      setSaving(false);
    }
  };

  const valid = problems.length === 0 && definition !== null;
  return (
    <Card
      size="small"
      data-testid="flow-editor"
      title={initial.name ? t('bot.editingFlow', { name: initial.name, n: initial.version ?? 0 }) : t('bot.newFlow')}
      extra={
        <Button size="small" onClick={onClose} aria-label={t('bot.closeEditor')}>
          ×
        </Button>
      }
    >
      <Row gutter={16}>
        <Col span={13}>
          <Space style={{ marginBottom: 8 }} wrap>
            <Segmented
              aria-label={t('bot.format')}
              value={format}
              onChange={(value) => switchFormat(value as 'json' | 'yaml')}
              options={[
                { value: 'yaml', label: 'YAML' },
                { value: 'json', label: 'JSON' },
              ]}
            />
            <span data-testid="flow-validity">
              {checking ? (
                <Tag>{t('bot.checking')}</Tag>
              ) : valid ? (
                <Tag color="green">{t('bot.valid')}</Tag>
              ) : (
                <Tag color="red">{t('bot.invalidN', { n: problems.length })}</Tag>
              )}
            </span>
          </Space>
          <CodeEditor ref={editorRef} value={source} onChange={setSource} problems={problems} label={t('bot.flowSource')} />
          {problems.length > 0 && (
            <Alert
              type="error"
              showIcon
              data-testid="flow-problems"
              style={{ marginTop: 8 }}
              title={t('bot.problems')}
              description={
                <ul style={{ margin: 0, paddingLeft: 18 }}>
                  {problems.map((problem, index) => (
                    <li key={index} data-testid="flow-problem">
                      {problem.line ? (
                        <Typography.Link onClick={() => editorRef.current?.goToLine(problem.line!)}>
                          {t('bot.lineCol', { line: problem.line, col: problem.column ?? 1 })}
                        </Typography.Link>
                      ) : null}{' '}
                      {problem.message}
                    </li>
                  ))}
                </ul>
              }
            />
          )}
          <Space style={{ marginTop: 8 }}>
            <Button type="primary" data-testid="flow-save" loading={saving} disabled={checking && !valid} onClick={() => void save()}>
              {t('bot.saveVersion')}
            </Button>
            <Checkbox checked={activate} onChange={(event) => setActivate(event.target.checked)} data-testid="flow-activate">
              {t('bot.activateOnSave')}
            </Checkbox>
          </Space>
        </Col>
        <Col span={11}>
          <Tabs
            size="small"
            items={[
              {
                key: 'preview',
                label: t('bot.preview'),
                children: definition ? <FlowPreview flow={definition} /> : <Empty description={t('bot.previewNeedsValid')} />,
              },
              {
                key: 'dry-run',
                label: t('bot.dryRun'),
                children: definition ? <DryRunPanel format={format} source={source} flow={definition} /> : <Empty description={t('bot.previewNeedsValid')} />,
              },
            ]}
          />
        </Col>
      </Row>
    </Card>
  );
}

interface CodeEditorHandle {
  goToLine(line: number): void;
}

/** A source editor: a textarea with a line-number gutter that marks the lines with problems. */
function CodeEditor({
  value,
  onChange,
  problems,
  label,
  ref,
}: {
  value: string;
  onChange(value: string): void;
  problems: FlowProblem[];
  label: string;
  ref?: Ref<CodeEditorHandle>;
}) {
  const area = useRef<HTMLTextAreaElement | null>(null);
  const gutter = useRef<HTMLDivElement | null>(null);
  const lines = value.split('\n').length;
  const byLine = new Map<number, string[]>();
  for (const problem of problems) if (problem.line) byLine.set(problem.line, [...(byLine.get(problem.line) ?? []), problem.message]);
  const handle: CodeEditorHandle = {
    goToLine(line) {
      const element = area.current;
      if (!element) return;
      const starts = [0];
      for (let i = 0; i < value.length; i++) if (value[i] === '\n') starts.push(i + 1);
      const start = starts[line - 1] ?? 0;
      const end = (starts[line] ?? value.length + 1) - 1;
      element.focus();
      element.setSelectionRange(start, end);
      element.scrollTop = Math.max(0, (line - 5) * 18);
    },
  };
  useImperativeHandle(ref, () => handle);
  const font: CSSProperties = { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', fontSize: 12, lineHeight: '18px' };
  return (
    <div style={{ display: 'flex', border: '1px solid #d9d9d9', borderRadius: 6, overflow: 'hidden', height: 460 }}>
      <div
        ref={gutter}
        aria-hidden
        style={{ ...font, overflow: 'hidden', background: '#fafafa', color: '#8c8c8c', textAlign: 'right', minWidth: 44, padding: '6px 0' }}
      >
        {Array.from({ length: lines }, (_, index) => {
          const messages = byLine.get(index + 1);
          return (
            <div
              key={index}
              data-testid={messages ? 'flow-error-line' : undefined}
              title={messages?.join('\n')}
              style={{
                padding: '0 8px',
                background: messages ? '#ffccc7' : undefined,
                color: messages ? '#a8071a' : undefined,
                fontWeight: messages ? 600 : undefined,
              }}
            >
              {messages ? '● ' : ''}
              {index + 1}
            </div>
          );
        })}
      </div>
      <textarea
        ref={area}
        aria-label={label}
        data-testid="flow-source"
        spellCheck={false}
        wrap="off"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        onScroll={(event) => {
          if (gutter.current) gutter.current.scrollTop = event.currentTarget.scrollTop;
        }}
        onKeyDown={(event) => {
          if (event.key === 'Tab' && !event.shiftKey) {
            // Two spaces (YAML has no tabs); Shift+Tab still leaves the field.
            event.preventDefault();
            const element = event.currentTarget;
            const start = element.selectionStart;
            const next = value.slice(0, start) + '  ' + value.slice(element.selectionEnd);
            onChange(next);
            requestAnimationFrame(() => element.setSelectionRange(start + 2, start + 2));
          }
        }}
        style={{ ...font, flex: 1, border: 0, outline: 'none', resize: 'none', padding: '6px 8px', whiteSpace: 'pre', overflow: 'auto' }}
      />
    </div>
  );
}

// ---------------------------------------------------------------- preview

function textOf(text: LocalText | undefined | null): ReactNode {
  if (text === undefined || text === null) return null;
  if (typeof text === 'string') return <Typography.Text>{text}</Typography.Text>;
  return (
    <Space orientation="vertical" size={0}>
      {Object.entries(text).map(([language, value]) => (
        <Typography.Text key={language}>
          <Tag style={{ marginRight: 4 }}>{language}</Tag>
          {value}
        </Typography.Text>
      ))}
    </Space>
  );
}

/** A condition in words: `results.order.data.status = shipped and …`. */
export function conditionText(condition: Condition | undefined): string {
  if (!condition) return '';
  if ('all' in condition) return condition.all.map((c) => `(${conditionText(c)})`).join(' and ');
  if ('any' in condition) return condition.any.map((c) => `(${conditionText(c)})`).join(' or ');
  if ('not' in condition) return `not (${conditionText(condition.not)})`;
  const parts: string[] = [];
  const show = (value: unknown) => JSON.stringify(value);
  if (condition.equals !== undefined) parts.push(`${condition.path} = ${show(condition.equals)}`);
  if (condition.notEquals !== undefined) parts.push(`${condition.path} ≠ ${show(condition.notEquals)}`);
  if (condition.in) parts.push(`${condition.path} ∈ ${show(condition.in)}`);
  if (condition.exists !== undefined) parts.push(`${condition.path} ${condition.exists ? 'exists' : 'is missing'}`);
  if (condition.matches !== undefined) parts.push(`${condition.path} ~ /${condition.matches}/`);
  if (condition.gte !== undefined) parts.push(`${condition.path} ≥ ${condition.gte}`);
  if (condition.lte !== undefined) parts.push(`${condition.path} ≤ ${condition.lte}`);
  return parts.join(' and ') || condition.path;
}

const STEP_COLOURS: Record<string, string> = { ask: 'blue', call: 'purple', branch: 'gold', reply: 'green', handover: 'red', set: 'cyan' };

function FlowPreview({ flow }: { flow: FlowDefinition }) {
  const { t } = useI18n();
  const following = (index: number) => flow.steps[index + 1]?.id ?? t('bot.end');
  const target = (value: string | undefined, index: number) => (value === 'handover' ? t('bot.toHandover') : (value ?? following(index)));
  const slots = [
    ...flow.steps
      .filter((step) => step.type === 'ask' && step.slot)
      .map((step) => ({ slot: step.slot!, how: step.entity ?? (step.pattern ? `/${step.pattern}/` : '') })),
    ...flow.steps
      .filter((step) => step.type === 'set')
      .flatMap((step) => Object.keys(step.slots ?? {}).map((slot) => ({ slot, how: t('bot.setBy', { step: step.id }) }))),
  ];
  const branchList = (branches: Branch[]) => (
    <ul style={{ margin: '2px 0', paddingLeft: 18 }}>
      {branches.map((branch, index) => (
        <li key={index}>
          {branch.when ? (
            <>
              {t('bot.if')} <Typography.Text code>{conditionText(branch.when)}</Typography.Text> → <Typography.Text strong>{branch.goto}</Typography.Text>
            </>
          ) : (
            <>
              {t('bot.otherwise')} → <Typography.Text strong>{branch.goto}</Typography.Text>
            </>
          )}
        </li>
      ))}
    </ul>
  );
  return (
    <Space orientation="vertical" style={{ width: '100%' }} data-testid="flow-preview">
      <Descriptions
        size="small"
        column={1}
        bordered
        items={[
          { key: 'name', label: t('common.name'), children: <Typography.Text strong>{flow.name}</Typography.Text> },
          ...(flow.description ? [{ key: 'd', label: t('bot.description'), children: flow.description }] : []),
          {
            key: 'trigger',
            label: t('bot.trigger'),
            children: (
              <Space orientation="vertical" size={2}>
                {flow.trigger?.intents?.length ? (
                  <span>
                    {t('bot.intents')}:{' '}
                    {flow.trigger.intents.map((intent) => (
                      <Tag key={intent}>{intent}</Tag>
                    ))}
                    {flow.trigger.minConfidence !== undefined && <Typography.Text type="secondary">≥ {flow.trigger.minConfidence}</Typography.Text>}
                  </span>
                ) : null}
                {flow.trigger?.phrases?.length ? (
                  <span>
                    {t('bot.phrases')}:{' '}
                    {flow.trigger.phrases.map((phrase) => (
                      <Tag key={phrase}>{phrase}</Tag>
                    ))}
                  </span>
                ) : null}
                {!flow.trigger?.intents?.length && !flow.trigger?.phrases?.length && <Typography.Text type="secondary">{t('bot.noTrigger')}</Typography.Text>}
              </Space>
            ),
          },
          {
            key: 'slots',
            label: t('bot.slots'),
            children: slots.length ? (
              <span data-testid="flow-slots">
                {slots.map((slot) => (
                  <Tag key={slot.slot} color="blue">
                    {slot.slot}
                    {slot.how ? ` · ${slot.how}` : ''}
                  </Tag>
                ))}
              </span>
            ) : (
              '—'
            ),
          },
          ...(flow.timeoutSeconds ? [{ key: 'timeout', label: t('bot.timeout'), children: t('bot.seconds', { n: flow.timeoutSeconds }) }] : []),
        ]}
      />
      <Timeline
        items={flow.steps.map((step, index) => ({
          color: STEP_COLOURS[step.type] ?? 'gray',
          children: (
            <div data-testid="flow-step">
              <Space size={6}>
                <Tag color={STEP_COLOURS[step.type]}>{t(`bot.step.${step.type}` as MessageKey)}</Tag>
                <Typography.Text strong>{step.id}</Typography.Text>
                {(flow.start ?? flow.steps[0]?.id) === step.id && <Tag>{t('bot.start')}</Tag>}
              </Space>
              <div style={{ fontSize: 12, marginTop: 4 }}>
                {step.type === 'ask' && (
                  <Space orientation="vertical" size={2}>
                    <span>
                      {t('bot.asksFor')} <Typography.Text code>{step.slot}</Typography.Text>
                      {step.entity && <Tag style={{ marginLeft: 4 }}>{step.entity}</Tag>}
                      {step.pattern && <Typography.Text code>/{step.pattern}/</Typography.Text>}
                    </span>
                    {textOf(step.prompt)}
                    {step.invalid && (
                      <span>
                        <Typography.Text type="secondary">{t('bot.whenInvalid')}</Typography.Text> {textOf(step.invalid)}
                      </span>
                    )}
                    <Typography.Text type="secondary">
                      {t('bot.attempts', { n: step.maxAttempts ?? 3 })} · {t('bot.onFail')} → {target(step.onFail ?? 'handover', index)} · {t('bot.then')} →{' '}
                      {target(step.next as string | undefined, index)}
                    </Typography.Text>
                  </Space>
                )}
                {step.type === 'call' && (
                  <Space orientation="vertical" size={2}>
                    {step.http ? (
                      <Typography.Text code>
                        {step.http.method ?? 'GET'} {step.http.url}
                      </Typography.Text>
                    ) : (
                      <Typography.Text code>{JSON.stringify({ ...step.plugin, params: undefined })}</Typography.Text>
                    )}
                    <span>
                      {t('bot.resultIn')} <Typography.Text code>results.{step.result}</Typography.Text>
                    </span>
                    {Array.isArray(step.next) ? (
                      branchList(step.next)
                    ) : (
                      <Typography.Text type="secondary">
                        {t('bot.then')} → {target(step.next, index)}
                      </Typography.Text>
                    )}
                    <Typography.Text type="secondary">
                      {t('bot.onError')} → {target(step.onError ?? 'handover', index)}
                    </Typography.Text>
                  </Space>
                )}
                {step.type === 'branch' && (
                  <>
                    {branchList(step.branches ?? [])}
                    <Typography.Text type="secondary">
                      {t('bot.otherwise')} → {target(step.default, index)}
                    </Typography.Text>
                  </>
                )}
                {step.type === 'reply' && (
                  <Space orientation="vertical" size={2}>
                    {textOf(step.text)}
                    <Typography.Text type="secondary">
                      {step.end ? t('bot.end') : `${t('bot.then')} → ${target(step.next as string | undefined, index)}`}
                    </Typography.Text>
                  </Space>
                )}
                {step.type === 'set' && (
                  <Space orientation="vertical" size={2}>
                    {Object.entries(step.slots ?? {}).map(([slot, template]) => (
                      <Typography.Text key={slot} code>
                        {slot} = {template}
                      </Typography.Text>
                    ))}
                    <Typography.Text type="secondary">
                      {t('bot.then')} → {target(step.next as string | undefined, index)}
                    </Typography.Text>
                  </Space>
                )}
                {step.type === 'handover' && (
                  <Space orientation="vertical" size={2}>
                    {textOf(step.text)}
                    <Typography.Text type="secondary">{t('bot.toHandover')}</Typography.Text>
                  </Space>
                )}
              </div>
            </div>
          ),
        }))}
      />
    </Space>
  );
}

function DryRunPanel({ format, source, flow }: { format: 'json' | 'yaml'; source: string; flow: FlowDefinition }) {
  const { t } = useI18n();
  const calls = flow.steps.filter((step) => step.type === 'call' && step.result);
  const [messages, setMessages] = useState(() => [flow.trigger?.phrases?.[0] ?? 'hello', ''].join('\n'));
  const [results, setResults] = useState(() =>
    JSON.stringify(Object.fromEntries(calls.map((step) => [step.result!, { ok: true, httpStatus: 200, data: {} }])), null, 2),
  );
  const [language, setLanguage] = useState<'en' | 'zh'>('en');
  const [run, setRun] = useState<DryRun | null>(null);
  const [error, setError] = useState<string | null>(null);
  const start = async () => {
    setError(null);
    let parsed: unknown;
    try {
      parsed = results.trim() ? JSON.parse(results) : {};
    } catch (failure) {
      setError(`${t('bot.resultsInvalid')}: ${(failure as Error).message}`);
      return;
    }
    try {
      setRun(
        await api.post<DryRun>('/api/v1/bot/flows/dry-run', {
          format,
          source,
          language,
          messages: messages
            .split('\n')
            .map((line) => line.trim())
            .filter(Boolean),
          results: parsed,
        }),
      );
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  return (
    <Space orientation="vertical" style={{ width: '100%' }} data-testid="dry-run">
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {t('bot.dryRunHelp')}
      </Typography.Text>
      <Input.TextArea
        aria-label={t('bot.dryRunMessages')}
        data-testid="dry-run-messages"
        value={messages}
        onChange={(event) => setMessages(event.target.value)}
        autoSize={{ minRows: 3, maxRows: 8 }}
        placeholder={t('bot.dryRunMessages')}
      />
      {calls.length > 0 && (
        <>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t('bot.simulatedResults')}
          </Typography.Text>
          <Input.TextArea
            aria-label={t('bot.simulatedResults')}
            value={results}
            onChange={(event) => setResults(event.target.value)}
            autoSize={{ minRows: 3, maxRows: 10 }}
            style={{ fontFamily: 'ui-monospace, monospace', fontSize: 12 }}
          />
        </>
      )}
      <Space>
        <Segmented
          aria-label={t('common.language')}
          value={language}
          onChange={(value) => setLanguage(value as 'en' | 'zh')}
          options={[
            { value: 'en', label: 'en' },
            { value: 'zh', label: 'zh' },
          ]}
        />
        <Button type="primary" data-testid="dry-run-start" onClick={() => void start()}>
          {t('bot.runDry')}
        </Button>
      </Space>
      {error && <Alert type="error" showIcon title={error} />}
      {run && (
        <Space orientation="vertical" style={{ width: '100%' }} data-testid="dry-run-result">
          <Space>
            <Tag color={run.outcome === 'done' ? 'green' : run.outcome === 'handover' ? 'red' : 'gold'} data-testid="dry-run-outcome">
              {t(`bot.outcome.${run.outcome}`)}
            </Tag>
            {run.triggerPhraseMatched !== null && (
              <Tag color={run.triggerPhraseMatched ? 'green' : 'orange'}>{run.triggerPhraseMatched ? t('bot.triggerMatched') : t('bot.triggerNotMatched')}</Tag>
            )}
          </Space>
          <div data-testid="dry-run-transcript" style={{ display: 'flex', flexDirection: 'column', gap: 4 }}>
            {run.transcript.map((line, index) => (
              <div
                key={index}
                style={{
                  alignSelf: line.from === 'customer' ? 'flex-start' : 'flex-end',
                  background: line.from === 'customer' ? '#f5f5f5' : '#e6f4ff',
                  borderRadius: 8,
                  padding: '4px 10px',
                  maxWidth: '85%',
                  whiteSpace: 'pre-wrap',
                }}
              >
                <Typography.Text type="secondary" style={{ fontSize: 11, display: 'block' }}>
                  {line.from === 'customer' ? t('bot.customer') : t('bot.bot')}
                </Typography.Text>
                {line.text}
              </div>
            ))}
          </div>
          {Object.keys(run.slots).length > 0 && (
            <div>
              {Object.entries(run.slots).map(([slot, value]) => (
                <Tag key={slot} color="blue">
                  {slot} = {value}
                </Tag>
              ))}
            </div>
          )}
          <Collapse
            size="small"
            items={[
              {
                key: 'trace',
                label: t('bot.trace'),
                children: (
                  <ol style={{ margin: 0, paddingLeft: 18, fontSize: 12 }}>
                    {run.trace.map((step, index) => (
                      <li key={index}>
                        <Typography.Text code>{step.stepId}</Typography.Text> {step.note}
                      </li>
                    ))}
                  </ol>
                ),
              },
            ]}
          />
        </Space>
      )}
    </Space>
  );
}
