import { Link } from 'react-router-dom';
import { Alert, Card, Descriptions, Empty, List, Rate, Space, Tag, Typography } from 'antd';
import { CrownOutlined } from '@ant-design/icons';
import { api } from '../api';
import { useI18n, type MessageKey } from '../i18n';
import type { Contact, Conversation, Device, Page, Ticket } from '../types';
import { ChannelBadge, StateTag, errorText, formatTime, itemsOf, useLoad } from '../util';

interface Survey {
  id: string;
  subjectType: string;
  subjectId: string;
  status: string;
  rating: number | null;
  comment: string | null;
  contactId?: string | null;
  createdAt: string;
}

/** Customer 360: profile, identities, past conversations and tickets, devices and their state, CSAT. */
export function Customer360({
  contactId,
  currentConversationId,
  canSeeTickets,
}: {
  contactId: string;
  currentConversationId?: string;
  canSeeTickets: boolean;
}) {
  const { t, lang } = useI18n();
  const contact = useLoad((signal) => api.get<Contact>(`/api/v1/contacts/${contactId}`, undefined, signal), [contactId]);
  const conversations = useLoad((signal) => api.get<Page<Conversation>>(`/api/v1/contacts/${contactId}/conversations`, { limit: 20 }, signal), [contactId]);
  const tickets = useLoad(
    (signal) =>
      canSeeTickets ? api.get<Page<Ticket>>('/api/v1/tickets', { requesterContactId: contactId, limit: 20 }, signal) : Promise.resolve({ items: [] }),
    [contactId, canSeeTickets],
  );
  const devices = useLoad((signal) => api.get(`/api/v1/contacts/${contactId}/devices`, undefined, signal).then((value) => itemsOf<Device>(value)), [contactId]);
  const surveys = useLoad(
    async (signal) => {
      const ids = new Set((conversations.data?.items ?? []).map((conversation) => conversation.id));
      const page = await api.get('/api/v1/csat/surveys', { limit: 100 }, signal);
      return itemsOf<Survey>(page).filter((survey) => survey.contactId === contactId || ids.has(survey.subjectId));
    },
    [contactId, conversations.data],
  );
  const c = contact.data;
  return (
    <Space direction="vertical" style={{ width: '100%' }} size={8} data-testid="customer-360">
      <Card size="small" title={t('customer.profile')}>
        {contact.error ? (
          <Alert type="error" title={errorText(contact.error)} />
        ) : c ? (
          <Descriptions size="small" column={1} colon={false}>
            <Descriptions.Item label={t('common.name')}>
              <Space>
                <span data-testid="contact-name">{c.name ?? t('contact.unknown')}</span>
                {c.vip && (
                  <Tag color="gold" icon={<CrownOutlined />}>
                    VIP
                  </Tag>
                )}
              </Space>
            </Descriptions.Item>
            <Descriptions.Item label={t('customer.email')}>{c.emails.map((email) => email.value).join(', ') || '—'}</Descriptions.Item>
            <Descriptions.Item label={t('customer.phone')}>{c.phones.map((phone) => phone.value).join(', ') || '—'}</Descriptions.Item>
            <Descriptions.Item label={t('customer.language')}>{c.language ?? '—'}</Descriptions.Item>
            <Descriptions.Item label={t('common.tags')}>{c.tags.length ? c.tags.map((tag) => <Tag key={tag}>{tag}</Tag>) : '—'}</Descriptions.Item>
          </Descriptions>
        ) : null}
      </Card>
      <Card size="small" title={t('customer.identities')}>
        <List
          size="small"
          dataSource={c?.identities ?? []}
          locale={{ emptyText: t('common.none') }}
          renderItem={(identity) => (
            <List.Item>
              <Space>
                <ChannelBadge channel={identity.channel} />
                <Typography.Text ellipsis style={{ maxWidth: 160 }}>
                  {identity.externalId}
                </Typography.Text>
                {identity.verified && <Tag color="green">{t('customer.verified')}</Tag>}
              </Space>
            </List.Item>
          )}
        />
      </Card>
      <Card size="small" title={t('customer.conversations')}>
        <List
          size="small"
          dataSource={(conversations.data?.items ?? []).filter((conversation) => conversation.id !== currentConversationId)}
          locale={{ emptyText: t('common.none') }}
          renderItem={(conversation) => (
            <List.Item>
              <Space size={4}>
                <ChannelBadge channel={conversation.channel} />
                <StateTag value={conversation.status} label={t(`status.${conversation.status}` as MessageKey)} />
                <Link to={`/inbox/${conversation.id}`}>{formatTime(conversation.createdAt, lang)}</Link>
              </Space>
            </List.Item>
          )}
        />
      </Card>
      {canSeeTickets && (
        <Card size="small" title={t('customer.tickets')}>
          <List
            size="small"
            dataSource={tickets.data?.items ?? []}
            locale={{ emptyText: t('common.none') }}
            renderItem={(ticket) => (
              <List.Item>
                <Space size={4}>
                  <Link to={`/tickets/${ticket.id}`}>#{ticket.number}</Link>
                  <Typography.Text ellipsis style={{ maxWidth: 130 }}>
                    {ticket.subject}
                  </Typography.Text>
                  <StateTag value={ticket.status} label={t(`ticketStatus.${ticket.status}` as MessageKey)} />
                </Space>
              </List.Item>
            )}
          />
        </Card>
      )}
      <Card size="small" title={t('customer.devices')}>
        <List
          size="small"
          dataSource={devices.data ?? []}
          locale={{ emptyText: t('common.none') }}
          renderItem={(device) => (
            <List.Item>
              <Space size={4}>
                <Link to={`/devices/${encodeURIComponent(device.id)}`}>{device.name}</Link>
                <Typography.Text type="secondary">{device.model ?? ''}</Typography.Text>
                <StateTag value={device.state} label={t(`deviceState.${device.state}` as MessageKey)} />
              </Space>
            </List.Item>
          )}
        />
      </Card>
      <Card size="small" title={t('customer.csat')}>
        {surveys.error ? (
          <Typography.Text type="secondary">{t('common.unavailable')}</Typography.Text>
        ) : (surveys.data ?? []).length === 0 ? (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('common.none')} />
        ) : (
          <List
            size="small"
            dataSource={surveys.data ?? []}
            renderItem={(survey) => (
              <List.Item>
                <Space direction="vertical" size={0}>
                  <Space>
                    {survey.rating ? <Rate disabled value={survey.rating} style={{ fontSize: 12 }} /> : <Tag>{t(`csat.${survey.status}` as MessageKey)}</Tag>}
                    <Typography.Text type="secondary">{formatTime(survey.createdAt, lang)}</Typography.Text>
                  </Space>
                  {survey.comment && <Typography.Text>{survey.comment}</Typography.Text>}
                </Space>
              </List.Item>
            )}
          />
        )}
      </Card>
    </Space>
  );
}
