import { useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { Alert, App, Button, Card, Col, Descriptions, Form, Input, List, Row, Select, Space, Switch, Table, Tag, Timeline, Typography } from 'antd';
import { api } from '../api';
import { useAuth } from '../auth';
import { useI18n, type MessageKey } from '../i18n';
import type { Page, SlaClock, Ticket } from '../types';
import { StateTag, errorText, formatDuration, formatTime, itemsOf, useLoad } from '../util';

export const TRANSITIONS: Record<Ticket['status'], Ticket['status'][]> = {
  new: ['open', 'pending', 'on_hold', 'solved'],
  open: ['pending', 'on_hold', 'solved'],
  pending: ['open', 'on_hold', 'solved'],
  on_hold: ['open', 'pending', 'solved'],
  solved: ['open', 'closed'],
  closed: [],
};

/** The clock that matters now: the running one due first, else a breached one. */
export function nextClock(clocks: SlaClock[]): SlaClock | undefined {
  const running = clocks.filter((clock) => clock.state === 'running' && clock.dueAt).sort((a, b) => a.dueAt!.localeCompare(b.dueAt!));
  return running[0] ?? clocks.find((clock) => clock.breached && !clock.achievedAt);
}

/** Green while more than a quarter of the target is left, orange below that, red once breached. */
export function slaLevel(clock: SlaClock, now: number): 'ok' | 'warn' | 'breach' {
  if (clock.breached) return 'breach';
  if (!clock.dueAt) return 'ok';
  const left = new Date(clock.dueAt).getTime() - now;
  if (left <= 0) return 'breach';
  return left < clock.targetMinutes * 60_000 * 0.25 ? 'warn' : 'ok';
}

export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export function SlaCountdown({ clocks, now }: { clocks: SlaClock[] | undefined; now: number }) {
  const t = useI18n().t;
  if (!clocks) return <Typography.Text type="secondary">…</Typography.Text>;
  const clock = nextClock(clocks);
  if (!clock) return <Typography.Text type="secondary">{clocks.length ? t('sla.met') : '—'}</Typography.Text>;
  const level = slaLevel(clock, now);
  const left = clock.dueAt ? (new Date(clock.dueAt).getTime() - now) / 1000 : null;
  const label = `${t(`sla.${clock.metric}` as MessageKey)} ${left === null ? '' : left < 0 ? t('sla.overdue', { time: formatDuration(-left) }) : formatDuration(left)}`;
  return (
    <span className={`sb-sla-${level}`} data-testid="sla" data-level={level} aria-label={`${t('sla.label')}: ${label}`}>
      {level === 'breach' ? '● ' : level === 'warn' ? '▲ ' : '○ '}
      {label}
    </span>
  );
}

export function TicketsPage() {
  const { t, lang } = useI18n();
  const navigate = useNavigate();
  const [status, setStatus] = useState<string | undefined>();
  const [priority, setPriority] = useState<string | undefined>();
  const [type, setType] = useState<string | undefined>();
  const now = useNow();
  const list = useLoad((signal) => api.get<Page<Ticket>>('/api/v1/tickets', { status, priority, type, limit: 50 }, signal), [status, priority, type]);
  const [slas, setSlas] = useState<Record<string, SlaClock[]>>({});
  useEffect(() => {
    // The list has no SLA fields; read each visible ticket's clocks (at most one page).
    for (const ticket of list.data?.items ?? []) {
      api
        .get<{ clocks: SlaClock[] }>(`/api/v1/tickets/${ticket.id}/sla`)
        .then((value) => setSlas((previous) => ({ ...previous, [ticket.id]: value.clocks })))
        .catch(() => setSlas((previous) => ({ ...previous, [ticket.id]: [] })));
    }
  }, [list.data]);
  return (
    <Card
      title={t('nav.tickets')}
      extra={
        <Space wrap>
          <Select
            allowClear
            placeholder={t('inbox.status')}
            aria-label={t('inbox.status')}
            value={status}
            onChange={setStatus}
            style={{ width: 130 }}
            options={Object.keys(TRANSITIONS).map((value) => ({ value, label: t(`ticketStatus.${value}` as MessageKey) }))}
          />
          <Select
            allowClear
            placeholder={t('common.priority')}
            aria-label={t('common.priority')}
            value={priority}
            onChange={setPriority}
            style={{ width: 110 }}
            options={['low', 'normal', 'high', 'urgent'].map((value) => ({ value, label: t(`priority.${value}` as MessageKey) }))}
          />
          <Select
            allowClear
            placeholder={t('ticket.type')}
            aria-label={t('ticket.type')}
            value={type}
            onChange={setType}
            style={{ width: 140 }}
            options={['question', 'incident', 'problem', 'task', 'device_fault'].map((value) => ({ value, label: t(`ticketType.${value}` as MessageKey) }))}
          />
        </Space>
      }
    >
      {list.error ? <Alert type="error" title={errorText(list.error)} /> : null}
      <Table<Ticket>
        size="small"
        rowKey="id"
        loading={list.loading}
        dataSource={list.data?.items ?? []}
        pagination={false}
        data-testid="tickets-table"
        onRow={(ticket) => ({ onClick: () => navigate(`/tickets/${ticket.id}`), style: { cursor: 'pointer' } })}
        columns={[
          { title: '#', dataIndex: 'number', width: 90, render: (value: string, ticket) => <Link to={`/tickets/${ticket.id}`}>{value}</Link> },
          { title: t('ticket.subject'), dataIndex: 'subject', ellipsis: true },
          {
            title: t('inbox.status'),
            dataIndex: 'status',
            width: 110,
            render: (value: string) => <StateTag value={value} label={t(`ticketStatus.${value}` as MessageKey)} />,
          },
          {
            title: t('common.priority'),
            dataIndex: 'priority',
            width: 90,
            render: (value: string) => <StateTag value={value} label={t(`priority.${value}` as MessageKey)} />,
          },
          { title: t('ticket.type'), dataIndex: 'type', width: 120, render: (value: string) => t(`ticketType.${value}` as MessageKey) },
          { title: t('sla.label'), key: 'sla', width: 220, render: (_: unknown, ticket) => <SlaCountdown clocks={slas[ticket.id]} now={now} /> },
          { title: t('common.updated'), dataIndex: 'updatedAt', width: 150, render: (value: string) => formatTime(value, lang) },
        ]}
      />
    </Card>
  );
}

interface Comment {
  id: string;
  body: string;
  private: boolean;
  authorType: string;
  authorId: string | null;
  createdAt: string;
}
interface History {
  id: number;
  action: string;
  actorType: string;
  actorId: string | null;
  details: unknown;
  createdAt: string;
}
interface FieldDef {
  key: string;
  label: string;
  type: string;
  options?: string[];
  active?: boolean;
}

export function TicketDetailPage() {
  const { ticketId } = useParams();
  const { t, lang } = useI18n();
  const { hasRole } = useAuth();
  const { message: toast } = App.useApp();
  const now = useNow();
  const writable = hasRole('admin', 'supervisor', 'agent');
  const ticket = useLoad((signal) => api.get<Ticket>(`/api/v1/tickets/${ticketId}`, undefined, signal), [ticketId]);
  const sla = useLoad((signal) => api.get<{ clocks: SlaClock[] }>(`/api/v1/tickets/${ticketId}/sla`, undefined, signal), [ticketId]);
  const comments = useLoad(
    (signal) => api.get<Page<Comment>>(`/api/v1/tickets/${ticketId}/comments`, { includePrivate: true, limit: 100 }, signal),
    [ticketId],
  );
  const history = useLoad((signal) => api.get<Page<History>>(`/api/v1/tickets/${ticketId}/history`, { limit: 100 }, signal), [ticketId]);
  const fields = useLoad((signal) => api.get('/api/v1/ticket-fields', undefined, signal).then((value) => itemsOf<FieldDef>(value)), []);
  const [body, setBody] = useState('');
  const [isPrivate, setPrivate] = useState(false);
  const [linkForm] = Form.useForm<{ kind: string; refId: string }>();
  const reloadAll = () => {
    ticket.reload();
    sla.reload();
    history.reload();
    comments.reload();
  };
  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      reloadAll();
    } catch (error) {
      toast.error(errorText(error));
    }
  };
  if (ticket.error) return <Alert type="error" title={errorText(ticket.error)} />;
  const tk = ticket.data;
  if (!tk) return null;
  return (
    <Row gutter={12}>
      <Col xs={24} lg={16}>
        <Card
          title={
            <Space>
              <span>#{tk.number}</span>
              <Typography.Text strong>{tk.subject}</Typography.Text>
            </Space>
          }
          extra={<StateTag value={tk.status} label={t(`ticketStatus.${tk.status}` as MessageKey)} />}
        >
          <Typography.Paragraph style={{ whiteSpace: 'pre-wrap' }}>{tk.description}</Typography.Paragraph>
          {writable && (
            <Space wrap style={{ marginBottom: 12 }} data-testid="transitions">
              <Typography.Text>{t('ticket.transition')}:</Typography.Text>
              {TRANSITIONS[tk.status].map((status) => (
                <Button key={status} size="small" onClick={() => void act(() => api.post(`/api/v1/tickets/${tk.id}/transitions`, { status }))}>
                  {t(`ticketStatus.${status}` as MessageKey)}
                </Button>
              ))}
            </Space>
          )}
          <Typography.Title level={3} style={{ fontSize: 15 }}>
            {t('ticket.comments')}
          </Typography.Title>
          <List
            size="small"
            dataSource={comments.data?.items ?? []}
            locale={{ emptyText: t('common.none') }}
            renderItem={(comment) => (
              <List.Item>
                <div className={`sb-msg ${comment.private ? 'private' : ''}`} style={{ maxWidth: '100%' }}>
                  <div className="sb-msg-meta">
                    {t(`author.${comment.authorType}` as MessageKey)} · {formatTime(comment.createdAt, lang)}{' '}
                    {comment.private && <Tag color="gold">{t('composer.note')}</Tag>}
                  </div>
                  {comment.body}
                </div>
              </List.Item>
            )}
          />
          {writable && (
            <Space direction="vertical" style={{ width: '100%' }}>
              <Input.TextArea
                aria-label={t('ticket.addComment')}
                value={body}
                onChange={(event) => setBody(event.target.value)}
                autoSize={{ minRows: 2 }}
                placeholder={t('ticket.addComment')}
              />
              <Space>
                <Switch checked={isPrivate} onChange={setPrivate} aria-label={t('composer.note')} /> {t('composer.note')}
                <Button
                  type="primary"
                  disabled={!body.trim()}
                  onClick={() =>
                    void act(async () => {
                      await api.post(`/api/v1/tickets/${tk.id}/comments`, { body, private: isPrivate });
                      setBody('');
                    })
                  }
                >
                  {t('ticket.addComment')}
                </Button>
              </Space>
            </Space>
          )}
        </Card>
        <Card title={t('ticket.history')} style={{ marginTop: 12 }} size="small">
          <Timeline
            items={(history.data?.items ?? []).map((entry) => ({
              children: (
                <span>
                  <Typography.Text strong>{entry.action}</Typography.Text> · {entry.actorType} · {formatTime(entry.createdAt, lang)}{' '}
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {entry.details ? JSON.stringify(entry.details).slice(0, 160) : ''}
                  </Typography.Text>
                </span>
              ),
            }))}
          />
        </Card>
      </Col>
      <Col xs={24} lg={8}>
        <Card size="small" title={t('ticket.fields')}>
          <Descriptions size="small" column={1}>
            <Descriptions.Item label={t('ticket.type')}>{t(`ticketType.${tk.type}` as MessageKey)}</Descriptions.Item>
            <Descriptions.Item label={t('common.priority')}>
              {writable ? (
                <Select
                  size="small"
                  value={tk.priority}
                  style={{ width: 110 }}
                  aria-label={t('common.priority')}
                  onChange={(priority) => void act(() => api.patch(`/api/v1/tickets/${tk.id}`, { priority, expectedVersion: tk.version }))}
                  options={['low', 'normal', 'high', 'urgent'].map((value) => ({ value, label: t(`priority.${value}` as MessageKey) }))}
                />
              ) : (
                tk.priority
              )}
            </Descriptions.Item>
            <Descriptions.Item label={t('common.team')}>{tk.teamId ?? '—'}</Descriptions.Item>
            <Descriptions.Item label={t('conversation.assignee')}>{tk.assigneeId ?? '—'}</Descriptions.Item>
            <Descriptions.Item label={t('common.tags')}>
              {tk.tags.map((tag) => (
                <Tag key={tag}>{tag}</Tag>
              ))}
            </Descriptions.Item>
            {(fields.data ?? []).map((field) => (
              <Descriptions.Item key={field.key} label={field.label}>
                {tk.customFields[field.key] === undefined ? '—' : String(tk.customFields[field.key])}
              </Descriptions.Item>
            ))}
            <Descriptions.Item label={t('common.created')}>{formatTime(tk.createdAt, lang)}</Descriptions.Item>
            {tk.requesterContactId && <Descriptions.Item label={t('ticket.requester')}>{tk.requesterContactId.slice(0, 8)}</Descriptions.Item>}
          </Descriptions>
        </Card>
        <Card size="small" title={t('sla.label')} style={{ marginTop: 12 }}>
          {(sla.data?.clocks ?? []).length === 0 && <Typography.Text type="secondary">{t('sla.none')}</Typography.Text>}
          {(sla.data?.clocks ?? []).map((clock) => (
            <div key={clock.metric}>
              <SlaCountdown clocks={[clock]} now={now} />{' '}
              <Typography.Text type="secondary">
                ({clock.state}, {t('sla.target', { minutes: clock.targetMinutes })})
              </Typography.Text>
            </div>
          ))}
        </Card>
        <Card size="small" title={t('ticket.links')} style={{ marginTop: 12 }}>
          <List
            size="small"
            dataSource={tk.links ?? []}
            locale={{ emptyText: t('common.none') }}
            renderItem={(link) => (
              <List.Item
                actions={
                  writable
                    ? [
                        <Button key="rm" size="small" type="link" danger onClick={() => void act(() => api.del(`/api/v1/tickets/${tk.id}/links/${link.id}`))}>
                          {t('common.remove')}
                        </Button>,
                      ]
                    : []
                }
              >
                <Tag>{link.kind}</Tag>
                {link.kind === 'conversation' ? (
                  <Link to={`/inbox/${link.refId}`}>{link.refId.slice(0, 8)}</Link>
                ) : link.kind === 'device' ? (
                  <Link to={`/devices/${encodeURIComponent(link.refId)}`}>{link.refId}</Link>
                ) : link.kind === 'ticket' ? (
                  <Link to={`/tickets/${link.refId}`}>{link.refId.slice(0, 8)}</Link>
                ) : (
                  link.refId
                )}
              </List.Item>
            )}
          />
          {writable && (
            <Form
              form={linkForm}
              layout="inline"
              onFinish={(values) =>
                void act(async () => {
                  await api.post(`/api/v1/tickets/${tk.id}/links`, values);
                  linkForm.resetFields();
                })
              }
            >
              <Form.Item name="kind" rules={[{ required: true, message: t('common.required') }]}>
                <Select
                  aria-label={t('ticket.linkKind')}
                  placeholder={t('ticket.linkKind')}
                  style={{ width: 120 }}
                  options={['conversation', 'device', 'ticket', 'external'].map((value) => ({ value, label: value }))}
                />
              </Form.Item>
              <Form.Item name="refId" rules={[{ required: true, message: t('common.required') }]}>
                <Input aria-label="ID" placeholder="ID" style={{ width: 120 }} />
              </Form.Item>
              <Button htmlType="submit">{t('common.add')}</Button>
            </Form>
          )}
        </Card>
      </Col>
    </Row>
  );
}
