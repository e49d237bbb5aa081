import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { App, Alert, Button, Card, Form, Input, List, Modal, Progress, Segmented, Select, Space, Switch, Tag, Tooltip, Typography } from 'antd';
import { CheckOutlined, LinkOutlined, PaperClipOutlined, SendOutlined, SwapOutlined, UserAddOutlined } from '@ant-design/icons';
import { api, newKey } from '../api';
import { useAuth } from '../auth';
import { useI18n, type MessageKey } from '../i18n';
import type { Attachment, Contact, Conversation, Message, Page } from '../types';
import { ChannelBadge, SafeHtml, StateTag, errorText, formatTime, itemsOf, safeUrl, typingInField, useLoad } from '../util';
import type { Directory } from '../pages/InboxPage';
import { Customer360 } from './Customer360';
import { AssistPanel } from './AssistPanel';
import { attachmentHref, formatBytes, uploadAttachment } from './attachments';

interface Canned {
  id: string;
  name: string;
  body: string;
  shortcut: string | null;
}
interface Macro {
  id: string;
  name: string;
  actions: Array<Record<string, unknown> & { type: string }>;
}
type Suggestion = { kind: 'canned'; item: Canned } | { kind: 'macro'; item: Macro };
/** A file being uploaded from the composer. */
interface PendingUpload {
  key: string;
  name: string;
  size: number;
  percent: number;
  error?: string;
}

export function MessageBubble({ message, channel }: { message: Message; channel?: string }) {
  const { t, lang } = useI18n();
  const html = typeof message.content?.html === 'string' ? message.content.html : null;
  const cls = ['sb-msg', message.direction, message.private ? 'private' : '', message.authorType === 'system' ? 'system' : ''].join(' ');
  const annotations = message.annotations ?? {};
  return (
    <div className={cls} data-testid="message" data-seq={message.seq}>
      <div className="sb-msg-meta">
        <Space size={4} wrap>
          <span>{t(`author.${message.authorType}` as MessageKey)}</span>
          <ChannelBadge channel={message.channel ?? channel} />
          {message.private && <Tag color="gold">{t('composer.note')}</Tag>}
          {message.direction === 'in' && annotations.intent && (
            <Tooltip title={t('badge.intentTip', { p: Math.round((annotations.intentConfidence ?? 0) * 100) })}>
              <Tag color="geekblue" data-testid="intent-badge">
                {t('badge.intent')}: {annotations.intent}
              </Tag>
            </Tooltip>
          )}
          {message.direction === 'in' && annotations.emotion && annotations.emotion !== 'neutral' && (
            <Tag color={annotations.emotion === 'anger' || annotations.emotion === 'negative' ? 'red' : 'orange'} data-testid="emotion-badge">
              {t('badge.emotion')}: {annotations.emotion}
            </Tag>
          )}
          <span>{formatTime(message.createdAt, lang)}</span>
        </Space>
      </div>
      {html ? <SafeHtml html={html} className="sb-html" /> : <span data-testid="message-text">{message.text}</span>}
      {(message.attachments ?? []).length > 0 && (
        <ul style={{ margin: '4px 0 0', paddingLeft: 18 }}>
          {(message.attachments ?? []).map((attachment, index) => {
            const stored = attachmentHref(attachment);
            const url = stored ? null : safeUrl(attachment.url);
            return (
              <li key={index} data-testid="message-attachment">
                {stored ? <PaperClipOutlined /> : <LinkOutlined />}{' '}
                {stored ? (
                  <a href={stored} download={attachment.name} title={t('attachments.download')} data-testid="attachment-link">
                    {attachment.name}
                  </a>
                ) : url ? (
                  <a href={url} target="_blank" rel="noopener noreferrer">
                    {attachment.name}
                  </a>
                ) : (
                  attachment.name
                )}
                {stored && <Typography.Text type="secondary"> ({formatBytes(attachment.size)})</Typography.Text>}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

export function ConversationView({ conversationId, directory, onChanged }: { conversationId: string; directory: Directory; onChanged(): void }) {
  const { t } = useI18n();
  const { actor, realtime, hasRole } = useAuth();
  const { message: toast } = App.useApp();
  const conversation = useLoad((signal) => api.get<Conversation>(`/api/v1/conversations/${conversationId}`, undefined, signal), [conversationId]);
  const [messages, setMessages] = useState<Message[]>([]);
  const [scope, setScope] = useState<'this' | 'all'>('this');
  const [allMessages, setAllMessages] = useState<Message[] | null>(null);
  const [text, setText] = useState('');
  const [note, setNote] = useState(false);
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const [sending, setSending] = useState(false);
  const [attachOpen, setAttachOpen] = useState(false);
  const [uploads, setUploads] = useState<PendingUpload[]>([]);
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef<HTMLInputElement | null>(null);
  const [transferOpen, setTransferOpen] = useState(false);
  const [canned, setCanned] = useState<Canned[]>([]);
  const [macros, setMacros] = useState<Macro[]>([]);
  const [active, setActive] = useState(0);
  const composer = useRef<HTMLTextAreaElement | null>(null);
  const timeline = useRef<HTMLDivElement | null>(null);
  const conv = conversation.data;
  const contactId = conv?.contactId;
  const contact: Contact | undefined = contactId ? directory.contacts.get(contactId) : undefined;

  // Messages: the page, then live frames (the gateway replays anything after our last seq on reconnect).
  useEffect(() => {
    let cancelled = false;
    api
      .get<{ items: Message[] }>(`/api/v1/conversations/${conversationId}/messages`, { limit: 200 })
      .then((page) => {
        if (!cancelled) setMessages(page.items);
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [conversationId]);

  const lastSeq = messages.at(-1)?.seq;
  const lastSeqRef = useRef<number | undefined>(undefined);
  lastSeqRef.current = lastSeq;
  const { reload: reloadConversation } = conversation;
  useEffect(() => {
    if (!realtime || !conv) return;
    const unsubscribe = realtime.subscribe('conversation', conversationId, lastSeqRef.current ?? conv.lastSeq);
    const off = realtime.on((frame) => {
      if (frame.data.conversationId !== conversationId) return;
      if (frame.event === 'message') {
        const message = frame.data.message as Message | undefined;
        if (!message) return;
        setMessages((previous) => (previous.some((item) => item.seq === message.seq) ? previous : [...previous, message].sort((a, b) => a.seq - b.seq)));
      } else if (frame.event === 'conversation.event') {
        reloadConversation();
      }
    });
    return () => {
      off();
      unsubscribe();
    };
    // Subscribe once per conversation; resume points are tracked by the client.
  }, [realtime, conversationId, Boolean(conv)]);

  useEffect(() => {
    timeline.current?.scrollTo({ top: timeline.current.scrollHeight });
  }, [messages.length, scope, allMessages]);

  // Cross-channel timeline: every message of the contact, with the channel of its conversation.
  useEffect(() => {
    if (scope !== 'all' || !contactId) return;
    Promise.all([
      api.get<Page<Message>>(`/api/v1/contacts/${contactId}/messages`, { limit: 200 }),
      api.get<Page<Conversation>>(`/api/v1/contacts/${contactId}/conversations`, { limit: 100 }),
    ])
      .then(([page, conversations]) => {
        const channels = new Map(conversations.items.map((item) => [item.id, item.channel]));
        setAllMessages(
          page.items.map((item) => ({ ...item, channel: channels.get(item.conversationId) })).sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
        );
      })
      .catch(() => setAllMessages([]));
  }, [scope, contactId, messages.length]);

  useEffect(() => {
    api
      .get('/api/v1/automation/canned-responses')
      .then((value) => setCanned(itemsOf<Canned>(value)))
      .catch(() => undefined);
    api
      .get('/api/v1/automation/macros')
      .then((value) => setMacros(itemsOf<Macro>(value)))
      .catch(() => undefined);
  }, []);

  const slashQuery = text.startsWith('/') && !text.includes('\n') ? text.slice(1).toLowerCase() : null;
  const suggestions: Suggestion[] = useMemo(() => {
    if (slashQuery === null) return [];
    const match = (name: string, shortcut?: string | null) => name.toLowerCase().includes(slashQuery) || (shortcut ?? '').toLowerCase().includes(slashQuery);
    return [
      ...canned.filter((item) => match(item.name, item.shortcut)).map((item) => ({ kind: 'canned' as const, item })),
      ...macros.filter((item) => match(item.name)).map((item) => ({ kind: 'macro' as const, item })),
    ].slice(0, 8);
  }, [slashQuery, canned, macros]);

  const patch = async (body: Record<string, unknown>) => {
    try {
      await api.patch(`/api/v1/conversations/${conversationId}`, body);
      conversation.reload();
      onChanged();
    } catch (error) {
      toast.error(errorText(error));
    }
  };
  const assign = async (agentId: string | null, teamId?: string | null) => {
    try {
      await api.post(`/api/v1/conversations/${conversationId}/assign`, teamId === undefined ? { agentId } : { agentId, teamId });
      conversation.reload();
      onChanged();
      toast.success(t('conversation.assigned'));
    } catch (error) {
      toast.error(errorText(error));
    }
  };

  const pickCanned = async (item: Canned) => {
    try {
      const rendered = await api.post<{ text: string }>(`/api/v1/automation/canned-responses/${item.id}/render`, { conversationId });
      setText(rendered.text);
    } catch {
      setText(item.body);
    }
    composer.current?.focus();
  };

  /** Macros are defined for tickets; in a conversation the actions that make sense here are applied one by one. */
  const applyMacro = async (macro: Macro) => {
    setText('');
    const skipped: string[] = [];
    for (const action of macro.actions) {
      if (action.type === 'set_priority') await patch({ priority: action.value });
      else if (action.type === 'set_status' && ['open', 'pending', 'resolved'].includes(String(action.status))) await patch({ status: action.status });
      else if (action.type === 'set_tags') {
        const tags = new Set(conv?.tags ?? []);
        for (const tag of (action.add as string[] | undefined) ?? []) tags.add(tag);
        for (const tag of (action.remove as string[] | undefined) ?? []) tags.delete(tag);
        await patch({ tags: [...tags] });
      } else if (action.type === 'assign') await assign((action.assigneeId as string | null) ?? null);
      else if (action.type === 'set_team') await assign(null, (action.teamId as string | null) ?? null);
      else if (action.type === 'add_note') await send(String(action.body ?? ''), true);
      else if (action.type === 'send_canned_reply') {
        const item = canned.find((candidate) => candidate.id === action.cannedResponseId);
        if (item) await pickCanned(item);
      } else skipped.push(action.type);
    }
    toast.info(skipped.length ? t('composer.macroPartly', { actions: skipped.join(', ') }) : t('composer.macroApplied', { name: macro.name }));
  };

  const choose = (suggestion: Suggestion) => {
    if (suggestion.kind === 'canned') void pickCanned(suggestion.item);
    else void applyMacro(suggestion.item);
    setActive(0);
  };

  // Files: uploaded at once (progress per file), attached to the message when it is sent.
  const addFiles = (files: FileList | File[] | null) => {
    for (const file of Array.from(files ?? [])) {
      const key = newKey('upload');
      setUploads((previous) => [...previous, { key, name: file.name, size: file.size, percent: 0 }]);
      const progress = (percent: number) => setUploads((previous) => previous.map((item) => (item.key === key ? { ...item, percent } : item)));
      uploadAttachment(conversationId, file, progress)
        .then((uploaded) => {
          setUploads((previous) => previous.filter((item) => item.key !== key));
          setAttachments((previous) => [
            ...previous,
            { id: uploaded.id, name: uploaded.name, contentType: uploaded.contentType, size: uploaded.size, sha256: uploaded.sha256 },
          ]);
        })
        .catch((error: unknown) => {
          const reason = errorText(error);
          setUploads((previous) => previous.map((item) => (item.key === key ? { ...item, error: reason } : item)));
          toast.error(t('attachments.failed', { name: file.name, reason }));
        });
    }
  };
  const uploading = uploads.some((item) => !item.error);

  const send = async (body = text, asNote = note) => {
    if (!body.trim() && attachments.length === 0) return;
    if (uploading) {
      toast.info(t('attachments.wait'));
      return;
    }
    setSending(true);
    try {
      const result = await api.post<{ message: Message } | Message>(`/api/v1/conversations/${conversationId}/messages`, {
        text: body,
        private: asNote,
        attachments: body === text ? attachments.map((attachment) => (attachment.id ? { id: attachment.id } : attachment)) : [],
        idempotencyKey: newKey('console'),
      });
      const message = 'message' in result ? result.message : result;
      if (message?.seq !== undefined)
        setMessages((previous) => (previous.some((item) => item.seq === message.seq) ? previous : [...previous, message].sort((a, b) => a.seq - b.seq)));
      if (body === text) {
        setText('');
        setAttachments([]);
        setUploads([]);
      }
      onChanged();
    } catch (error) {
      toast.error(errorText(error));
    } finally {
      setSending(false);
    }
  };

  // Conversation shortcuts.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.altKey && event.shiftKey && event.code === 'KeyR') {
        event.preventDefault();
        void patch({ status: 'resolved' });
        return;
      }
      if (event.altKey && event.shiftKey && event.code === 'KeyA' && actor) {
        event.preventDefault();
        void assign(actor.id);
        return;
      }
      if (typingInField(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === 'r') {
        event.preventDefault();
        setNote(false);
        composer.current?.focus();
      } else if (event.key === 'n') {
        event.preventDefault();
        setNote(true);
        composer.current?.focus();
      } else if (event.key === '/') {
        event.preventDefault();
        setText('/');
        composer.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  if (conversation.error) return <Alert type="error" title={errorText(conversation.error)} style={{ gridColumn: 'span 2' }} />;
  const shown = scope === 'all' && allMessages ? allMessages : messages;
  const users = [...directory.users.values()].filter(
    (user) => user.active && user.roles.some((role) => role === 'agent' || role === 'supervisor' || role === 'admin'),
  );

  return (
    <>
      <section className="sb-col sb-conv" aria-label={t('conversation.label')} data-testid="conversation-view">
        <Card size="small" styles={{ body: { padding: 10 } }}>
          <Space style={{ width: '100%', justifyContent: 'space-between' }} wrap>
            <Space wrap>
              <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }} data-testid="conversation-title">
                {contact?.name ?? t('contact.unknown')}
              </Typography.Title>
              {conv && <ChannelBadge channel={conv.channel} />}
              {conv && <StateTag value={conv.status} label={t(`status.${conv.status}` as MessageKey)} />}
            </Space>
            <Space wrap size={4}>
              <Button size="small" icon={<UserAddOutlined />} onClick={() => actor && void assign(actor.id)} data-testid="assign-me">
                {t('conversation.assignMe')}
              </Button>
              <Button size="small" icon={<SwapOutlined />} onClick={() => setTransferOpen(true)}>
                {t('conversation.transfer')}
              </Button>
              <Button
                size="small"
                type="primary"
                icon={<CheckOutlined />}
                disabled={conv?.status === 'resolved'}
                onClick={() => void patch({ status: 'resolved' })}
                data-testid="resolve"
              >
                {t('conversation.resolve')}
              </Button>
            </Space>
          </Space>
          {conv && (
            <Space wrap size={6} style={{ marginTop: 8 }}>
              <Select
                size="small"
                aria-label={t('inbox.status')}
                value={conv.status}
                style={{ width: 110 }}
                data-testid="status-select"
                onChange={(status) => void patch({ status })}
                options={['open', 'pending', 'snoozed', 'resolved'].map((value) => ({
                  value,
                  label: t(`status.${value}` as MessageKey),
                  disabled: value === 'snoozed',
                }))}
              />
              <Select
                size="small"
                aria-label={t('common.priority')}
                value={conv.priority}
                style={{ width: 100 }}
                onChange={(priority) => void patch({ priority })}
                options={['low', 'normal', 'high', 'urgent'].map((value) => ({ value, label: t(`priority.${value}` as MessageKey) }))}
              />
              <Select
                size="small"
                aria-label={t('conversation.assignee')}
                value={conv.assigneeId ?? undefined}
                placeholder={t('conversation.assignee')}
                allowClear
                showSearch={{ optionFilterProp: 'label' }}
                style={{ width: 150 }}
                onChange={(agentId) => void assign(agentId ?? null)}
                options={users.map((user) => ({ value: user.id, label: user.displayName ?? user.email ?? user.id }))}
                notFoundContent={t('conversation.noUsers')}
              />
              <Select
                size="small"
                mode="tags"
                aria-label={t('common.tags')}
                placeholder={t('common.tags')}
                value={conv.tags}
                style={{ minWidth: 160 }}
                onChange={(tags: string[]) => void patch({ tags })}
              />
            </Space>
          )}
        </Card>
        <Space style={{ margin: '8px 0' }}>
          <Segmented
            size="small"
            aria-label={t('conversation.timeline')}
            value={scope}
            onChange={(value) => setScope(value as 'this' | 'all')}
            options={[
              { value: 'this', label: t('conversation.thisConversation') },
              { value: 'all', label: t('conversation.allChannels') },
            ]}
          />
        </Space>
        <div className="sb-timeline" ref={timeline} role="log" aria-live="polite" aria-label={t('conversation.timeline')} data-testid="timeline">
          {shown.map((message) => (
            <MessageBubble key={message.id} message={message} channel={conv?.channel} />
          ))}
        </div>
        <div
          style={{ position: 'relative', borderTop: '1px solid #f0f0f0', paddingTop: 8, outline: dragging ? '2px dashed #1677ff' : undefined }}
          data-testid="composer-drop"
          onDragOver={(event) => {
            if (!Array.from(event.dataTransfer.types).includes('Files')) return;
            event.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(event) => {
            if (!event.dataTransfer.files.length) return;
            event.preventDefault();
            setDragging(false);
            addFiles(event.dataTransfer.files);
          }}
        >
          {dragging && (
            <Typography.Text type="secondary" style={{ position: 'absolute', top: -22, left: 0 }}>
              {t('attachments.dropHere')}
            </Typography.Text>
          )}
          {suggestions.length > 0 && (
            <div
              role="listbox"
              aria-label={t('composer.suggestions')}
              data-testid="slash-menu"
              style={{ position: 'absolute', bottom: '100%', left: 0, right: 0, background: '#fff', zIndex: 10, maxHeight: 260, overflow: 'auto' }}
            >
              <List
                size="small"
                bordered
                dataSource={suggestions}
                renderItem={(suggestion, index) => (
                  <List.Item
                    role="option"
                    aria-selected={index === active}
                    style={{ cursor: 'pointer', background: index === active ? '#e6f4ff' : undefined }}
                    onMouseDown={(event) => {
                      event.preventDefault();
                      choose(suggestion);
                    }}
                  >
                    <Space>
                      <Tag color={suggestion.kind === 'canned' ? 'blue' : 'purple'}>
                        {t(suggestion.kind === 'canned' ? 'composer.canned' : 'composer.macro')}
                      </Tag>
                      <span>{suggestion.item.name}</span>
                      {suggestion.kind === 'canned' && suggestion.item.shortcut && (
                        <Typography.Text type="secondary">/{suggestion.item.shortcut}</Typography.Text>
                      )}
                    </Space>
                  </List.Item>
                )}
              />
            </div>
          )}
          <Input.TextArea
            ref={(instance) => {
              composer.current = instance?.resizableTextArea?.textArea ?? null;
            }}
            aria-label={note ? t('composer.noteLabel') : t('composer.replyLabel')}
            placeholder={note ? t('composer.notePlaceholder') : t('composer.placeholder')}
            autoSize={{ minRows: 2, maxRows: 8 }}
            value={text}
            data-testid="composer"
            style={note ? { background: '#fffbe6' } : undefined}
            onChange={(event) => {
              setText(event.target.value);
              setActive(0);
            }}
            onKeyDown={(event) => {
              if (suggestions.length > 0) {
                if (event.key === 'ArrowDown') {
                  event.preventDefault();
                  setActive((value) => (value + 1) % suggestions.length);
                  return;
                }
                if (event.key === 'ArrowUp') {
                  event.preventDefault();
                  setActive((value) => (value - 1 + suggestions.length) % suggestions.length);
                  return;
                }
                if (event.key === 'Enter' || event.key === 'Tab') {
                  event.preventDefault();
                  choose(suggestions[active] ?? suggestions[0]!);
                  return;
                }
              }
              if (event.key === 'Escape') {
                if (text.startsWith('/')) setText('');
                (event.target as HTMLTextAreaElement).blur();
              }
              if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
                event.preventDefault();
                void send();
              }
            }}
          />
          {(attachments.length > 0 || uploads.length > 0) && (
            <Space wrap style={{ marginTop: 4 }} data-testid="composer-attachments">
              {attachments.map((attachment, index) => (
                <Tag
                  key={attachment.id ?? `link-${index}`}
                  closable
                  closeIcon={<span aria-label={t('attachments.remove', { name: attachment.name })}>×</span>}
                  onClose={() => setAttachments((previous) => previous.filter((_, i) => i !== index))}
                  icon={attachment.id ? <PaperClipOutlined /> : <LinkOutlined />}
                  data-testid="attachment-chip"
                >
                  {attachment.name}
                  {attachment.id ? ` (${formatBytes(attachment.size)})` : ''}
                </Tag>
              ))}
              {uploads.map((upload) => (
                <Tag
                  key={upload.key}
                  color={upload.error ? 'error' : undefined}
                  closable={Boolean(upload.error)}
                  onClose={() => setUploads((previous) => previous.filter((item) => item.key !== upload.key))}
                  data-testid="upload-chip"
                  title={upload.error}
                >
                  <Space size={4}>
                    <PaperClipOutlined />
                    <span>{upload.name}</span>
                    {upload.error ? (
                      <span>{t('attachments.failedShort')}</span>
                    ) : (
                      <Progress
                        type="circle"
                        size={16}
                        percent={upload.percent}
                        aria-label={t('attachments.uploading', { name: upload.name, percent: upload.percent })}
                      />
                    )}
                  </Space>
                </Tag>
              ))}
            </Space>
          )}
          <Space style={{ marginTop: 6, width: '100%', justifyContent: 'space-between' }}>
            <Space>
              <Switch checked={note} onChange={setNote} aria-label={t('composer.note')} data-testid="note-toggle" />
              <span>{t('composer.note')}</span>
              <input
                ref={fileInput}
                type="file"
                multiple
                hidden
                data-testid="attach-file-input"
                aria-label={t('attachments.attachFile')}
                onChange={(event) => {
                  addFiles(event.target.files);
                  event.target.value = '';
                }}
              />
              <Tooltip title={t('attachments.dropHint')}>
                <Button size="small" icon={<PaperClipOutlined />} onClick={() => fileInput.current?.click()} data-testid="attach-file">
                  {t('attachments.attachFile')}
                </Button>
              </Tooltip>
              <Button size="small" icon={<LinkOutlined />} onClick={() => setAttachOpen(true)}>
                {t('attachments.attachLink')}
              </Button>
            </Space>
            <Button type="primary" icon={<SendOutlined />} loading={sending} disabled={uploading} onClick={() => void send()} data-testid="send">
              {note ? t('composer.addNote') : t('composer.send')}
            </Button>
          </Space>
        </div>
      </section>
      <aside className="sb-col" aria-label={t('customer.label')}>
        <AssistPanel conversationId={conversationId} messages={messages} canned={canned} onUse={(value) => setText(value)} contact={contact} />
        {contactId && (
          <Customer360 contactId={contactId} currentConversationId={conversationId} canSeeTickets={hasRole('admin', 'supervisor', 'agent', 'auditor')} />
        )}
      </aside>
      <AttachModal open={attachOpen} onClose={() => setAttachOpen(false)} onAdd={(attachment) => setAttachments((previous) => [...previous, attachment])} />
      <TransferModal
        open={transferOpen}
        conversationId={conversationId}
        directory={directory}
        onClose={() => setTransferOpen(false)}
        onDone={() => {
          setTransferOpen(false);
          conversation.reload();
          onChanged();
        }}
      />
    </>
  );
}

function AttachModal({ open, onClose, onAdd }: { open: boolean; onClose(): void; onAdd(attachment: Attachment): void }) {
  const t = useI18n().t;
  const [form] = Form.useForm<{ name: string; url: string }>();
  return (
    <Modal
      open={open}
      title={t('attachments.attachLink')}
      onCancel={onClose}
      onOk={() =>
        void form.validateFields().then((values) => {
          onAdd({ name: values.name, url: values.url, contentType: 'application/octet-stream', size: 0 });
          form.resetFields();
          onClose();
        })
      }
    >
      <Form form={form} layout="vertical">
        <Form.Item name="name" label={t('common.name')} rules={[{ required: true, message: t('common.required') }]}>
          <Input />
        </Form.Item>
        <Form.Item name="url" label="URL" rules={[{ required: true, type: 'url', message: t('common.invalidUrl') }]}>
          <Input placeholder="https://" />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function TransferModal({
  open,
  conversationId,
  directory,
  onClose,
  onDone,
}: {
  open: boolean;
  conversationId: string;
  directory: Directory;
  onClose(): void;
  onDone(): void;
}) {
  const t = useI18n().t;
  const { message: toast } = App.useApp();
  const [form] = Form.useForm<{ agentId?: string; teamId?: string; note?: string }>();
  const [teams, setTeams] = useState<Array<{ id: string; name: string }>>([]);
  const load = useCallback(() => {
    api
      .get('/api/v1/teams')
      .then((value) => setTeams(itemsOf(value)))
      .catch(() => undefined);
  }, []);
  useEffect(() => {
    if (open) load();
  }, [open, load]);
  return (
    <Modal
      open={open}
      title={t('conversation.transfer')}
      onCancel={onClose}
      onOk={() =>
        void form.validateFields().then(async (values) => {
          try {
            await api.post(`/api/v1/routing/conversations/${conversationId}/transfer`, values);
            toast.success(t('conversation.transferred'));
            onDone();
          } catch (error) {
            toast.error(errorText(error));
          }
        })
      }
    >
      <Form form={form} layout="vertical">
        <Form.Item name="teamId" label={t('common.team')}>
          <Select allowClear options={teams.map((team) => ({ value: team.id, label: team.name }))} />
        </Form.Item>
        <Form.Item name="agentId" label={t('conversation.assignee')}>
          <Select
            allowClear
            showSearch={{ optionFilterProp: 'label' }}
            options={[...directory.users.values()].map((user) => ({ value: user.id, label: user.displayName ?? user.id }))}
          />
        </Form.Item>
        <Form.Item name="note" label={t('conversation.transferNote')}>
          <Input.TextArea autoSize={{ minRows: 2 }} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
