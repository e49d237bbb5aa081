import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import { Badge, Empty, Input, List, Select, Space, Tabs, Typography } from 'antd';
import { api } from '../api';
import { useAuth } from '../auth';
import { useI18n, type MessageKey } from '../i18n';
import type { Contact, Conversation, Inbox, Page, User } from '../types';
import { ChannelBadge, StateTag, formatTime, itemsOf, typingInField, useLoad } from '../util';
import { ConversationView } from '../components/ConversationView';

type Queue = 'mine' | 'team' | 'unassigned' | 'all';

export interface Directory {
  users: Map<string, User>;
  inboxes: Map<string, Inbox>;
  contacts: Map<string, Contact>;
  name(userId: string | null | undefined): string;
}

export function useDirectory(): Directory & { loadContacts(ids: string[]): void } {
  const [users, setUsers] = useState<Map<string, User>>(new Map());
  const [inboxes, setInboxes] = useState<Map<string, Inbox>>(new Map());
  const [contacts, setContacts] = useState<Map<string, Contact>>(new Map());
  const requested = useRef(new Set<string>());
  useEffect(() => {
    api
      .get('/api/v1/users')
      .then((value) => setUsers(new Map(itemsOf<User>(value).map((user) => [user.id, user]))))
      .catch(() => undefined);
    api
      .get('/api/v1/inboxes')
      .then((value) => setInboxes(new Map(itemsOf<Inbox>(value).map((inbox) => [inbox.id, inbox]))))
      .catch(() => undefined);
  }, []);
  const loadContacts = useCallback((ids: string[]) => {
    for (const id of ids) {
      if (requested.current.has(id)) continue;
      requested.current.add(id);
      api
        .get<Contact>(`/api/v1/contacts/${encodeURIComponent(id)}`)
        .then((contact) => setContacts((previous) => new Map(previous).set(id, contact)))
        .catch(() => undefined);
    }
  }, []);
  return { users, inboxes, contacts, loadContacts, name: (id) => (id ? (users.get(id)?.displayName ?? users.get(id)?.email ?? id.slice(0, 8)) : '—') };
}

export function InboxPage() {
  const { t, lang } = useI18n();
  const { actor, hasRole, realtime } = useAuth();
  const navigate = useNavigate();
  const { conversationId } = useParams();
  const supervisor = hasRole('admin', 'supervisor');
  const [queue, setQueue] = useState<Queue>('mine');
  const [status, setStatus] = useState<string>('open');
  const [channel, setChannel] = useState<string | undefined>();
  const [priority, setPriority] = useState<string | undefined>();
  const [inboxId, setInboxId] = useState<string | undefined>();
  const [teamId, setTeamId] = useState<string | undefined>(actor?.teamIds[0]);
  const [search, setSearch] = useState('');
  const directory = useDirectory();

  const query = useMemo(() => {
    const base: Record<string, string | undefined> = {
      status: status === 'any' ? undefined : status,
      channel,
      priority,
      inboxId,
      sort: '-updatedAt',
      limit: '100',
    };
    if (queue === 'mine') base.assigneeId = actor?.id;
    if (queue === 'unassigned') base.unassigned = 'true';
    if (queue === 'team') base.teamId = teamId;
    return base;
  }, [queue, status, channel, priority, inboxId, teamId, actor?.id]);

  const list = useLoad((signal) => api.get<Page<Conversation>>('/api/v1/conversations', query, signal), [JSON.stringify(query)]);
  const conversations = list.data?.items ?? [];
  const { loadContacts } = directory;
  useEffect(() => loadContacts(conversations.map((conversation) => conversation.contactId)), [conversations, loadContacts]);

  // Live updates: my assignments and every inbox I can see; any change reloads the list (debounced).
  const reloadTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const { reload } = list;
  useEffect(() => {
    if (!realtime) return;
    const unsubscribers = [realtime.subscribe('agent'), ...[...directory.inboxes.keys()].map((id) => realtime.subscribe('inbox', id))];
    const off = realtime.on((frame) => {
      if (frame.event === 'conversation.event' || frame.event === 'assignment') {
        clearTimeout(reloadTimer.current);
        reloadTimer.current = setTimeout(reload, 250);
      }
    });
    const offState = realtime.onState((state) => {
      if (state === 'open') reload();
    });
    return () => {
      off();
      offState();
      for (const unsubscribe of unsubscribers) unsubscribe();
    };
  }, [realtime, directory.inboxes, reload]);

  const visible = conversations.filter((conversation) => {
    if (!search) return true;
    const contact = directory.contacts.get(conversation.contactId);
    const haystack = `${contact?.name ?? ''} ${conversation.tags.join(' ')} ${conversation.channel}`.toLowerCase();
    return haystack.includes(search.toLowerCase());
  });

  // j/k: next/previous conversation.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (typingInField(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key !== 'j' && event.key !== 'k') return;
      const index = visible.findIndex((conversation) => conversation.id === conversationId);
      const next = visible[event.key === 'j' ? index + 1 : Math.max(0, index - 1)];
      if (next) navigate(`/inbox/${next.id}`);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [visible, conversationId, navigate]);

  const queues: Array<{ key: Queue; label: MessageKey }> = [
    { key: 'mine', label: 'inbox.mine' },
    { key: 'team', label: 'inbox.team' },
    { key: 'unassigned', label: 'inbox.unassigned' },
    ...(supervisor ? [{ key: 'all' as Queue, label: 'inbox.all' as MessageKey }] : []),
  ];

  return (
    <div className="sb-inbox">
      <section className="sb-col" aria-label={t('inbox.listLabel')}>
        <Tabs
          activeKey={queue}
          onChange={(key) => setQueue(key as Queue)}
          items={queues.map((item) => ({ key: item.key, label: t(item.label) }))}
          size="small"
        />
        <Space wrap size={4} style={{ marginBottom: 8 }}>
          <Input.Search
            aria-label={t('common.search')}
            placeholder={t('common.search')}
            allowClear
            size="small"
            onChange={(event) => setSearch(event.target.value)}
            style={{ width: 150 }}
          />
          <Select
            size="small"
            aria-label={t('inbox.status')}
            value={status}
            onChange={setStatus}
            style={{ width: 110 }}
            options={['open', 'pending', 'snoozed', 'resolved', 'any'].map((value) => ({ value, label: t(`status.${value}` as MessageKey) }))}
          />
          {queue === 'team' && (
            <Select
              size="small"
              aria-label={t('common.team')}
              value={teamId}
              onChange={setTeamId}
              placeholder={t('common.team')}
              style={{ width: 110 }}
              options={(actor?.teamIds ?? []).map((id) => ({ value: id, label: id }))}
            />
          )}
          <Select
            size="small"
            aria-label={t('common.channel')}
            allowClear
            placeholder={t('common.channel')}
            value={channel}
            onChange={setChannel}
            style={{ width: 100 }}
            options={[...new Set([...directory.inboxes.values()].map((inbox) => inbox.channel))].map((value) => ({ value, label: value }))}
          />
          <Select
            size="small"
            aria-label={t('common.priority')}
            allowClear
            placeholder={t('common.priority')}
            value={priority}
            onChange={setPriority}
            style={{ width: 100 }}
            options={['low', 'normal', 'high', 'urgent'].map((value) => ({ value, label: t(`priority.${value}` as MessageKey) }))}
          />
          <Select
            size="small"
            aria-label={t('inbox.inbox')}
            allowClear
            placeholder={t('inbox.inbox')}
            value={inboxId}
            onChange={setInboxId}
            style={{ width: 130 }}
            options={[...directory.inboxes.values()].map((inbox) => ({ value: inbox.id, label: inbox.name }))}
          />
        </Space>
        <List
          data-testid="conversation-list"
          loading={list.loading && !list.data}
          locale={{ emptyText: <Empty description={t('inbox.empty')} /> }}
          dataSource={visible}
          renderItem={(conversation) => {
            const contact = directory.contacts.get(conversation.contactId);
            return (
              <List.Item
                key={conversation.id}
                className={`sb-conv-item ${conversation.id === conversationId ? 'active' : ''}`}
                tabIndex={0}
                role="link"
                aria-current={conversation.id === conversationId ? 'page' : undefined}
                data-testid="conversation-item"
                onClick={() => navigate(`/inbox/${conversation.id}`)}
                onKeyDown={(event) => {
                  if (event.key === 'Enter') navigate(`/inbox/${conversation.id}`);
                }}
              >
                <div style={{ width: '100%' }}>
                  <Space style={{ width: '100%', justifyContent: 'space-between' }}>
                    <Typography.Text strong ellipsis style={{ maxWidth: 170 }} data-testid="conversation-name">
                      {contact?.name ?? t('contact.unknown')}
                    </Typography.Text>
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {formatTime(conversation.lastMessageAt ?? conversation.updatedAt, lang)}
                    </Typography.Text>
                  </Space>
                  <Space size={4} wrap>
                    <ChannelBadge channel={conversation.channel} />
                    <StateTag value={conversation.status} label={t(`status.${conversation.status}` as MessageKey)} />
                    {conversation.priority !== 'normal' && (
                      <StateTag value={conversation.priority} label={t(`priority.${conversation.priority}` as MessageKey)} />
                    )}
                    {conversation.assigneeId ? (
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {directory.name(conversation.assigneeId)}
                      </Typography.Text>
                    ) : (
                      <Badge status="warning" text={<span style={{ fontSize: 12 }}>{t('inbox.unassigned')}</span>} />
                    )}
                  </Space>
                </div>
              </List.Item>
            );
          }}
        />
      </section>
      {conversationId ? (
        <ConversationView key={conversationId} conversationId={conversationId} directory={directory} onChanged={list.reload} />
      ) : (
        <section className="sb-col" style={{ gridColumn: 'span 2', display: 'grid', placeItems: 'center' }}>
          <Empty description={t('inbox.pick')} />
        </section>
      )}
    </div>
  );
}
