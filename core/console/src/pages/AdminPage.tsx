import { useState, type ReactNode } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import { Alert, App, Button, Card, Col, DatePicker, Form, Input, Modal, Popconfirm, Row, Select, Space, Switch, Table, Tabs, Tag, Typography } from 'antd';
import { api, withQuery } from '../api';
import { useAuth } from '../auth';
import { useI18n, type MessageKey } from '../i18n';
import type { Inbox, PluginInstance, PluginView, User } from '../types';
import { errorText, formatTime, itemsOf, useLoad } from '../util';
import { SchemaForm, configFromValues, isSecret } from '../components/SchemaForm';

function useAct() {
  const { message: toast } = App.useApp();
  const t = useI18n().t;
  return async (fn: () => Promise<unknown>, reload?: () => void): Promise<boolean> => {
    try {
      await fn();
      toast.success(t('common.saved'));
      reload?.();
      return true;
    } catch (error) {
      toast.error(errorText(error));
      return false;
    }
  };
}

/** A validated JSON editor: the server's validation message is shown as is. */
function JsonModal({
  open,
  title,
  initial,
  onClose,
  onSubmit,
}: {
  open: boolean;
  title: string;
  initial: unknown;
  onClose(): void;
  onSubmit(value: unknown): Promise<boolean>;
}) {
  const t = useI18n().t;
  const [text, setText] = useState(JSON.stringify(initial, null, 2));
  const [error, setError] = useState<string | null>(null);
  return (
    <Modal
      open={open}
      title={title}
      width={720}
      onCancel={onClose}
      afterOpenChange={(visible) => visible && (setText(JSON.stringify(initial, null, 2)), setError(null))}
      onOk={async () => {
        try {
          const value = JSON.parse(text) as unknown;
          if (await onSubmit(value)) onClose();
        } catch {
          setError(t('admin.invalidJson'));
        }
      }}
    >
      {error && <Alert type="error" title={error} style={{ marginBottom: 8 }} />}
      <Input.TextArea
        aria-label={title}
        value={text}
        onChange={(event) => setText(event.target.value)}
        autoSize={{ minRows: 12, maxRows: 28 }}
        style={{ fontFamily: 'monospace', fontSize: 12 }}
      />
    </Modal>
  );
}

function JsonList({
  title,
  path,
  columns,
  template,
  editable = true,
  idKey = 'id',
  method = 'PATCH',
}: {
  title: MessageKey;
  path: string;
  columns: Array<{ title: string; render: (row: Record<string, unknown>) => ReactNode }>;
  template: unknown;
  editable?: boolean;
  idKey?: string;
  method?: 'PATCH' | 'PUT';
}) {
  const t = useI18n().t;
  const act = useAct();
  const list = useLoad((signal) => api.get(path, undefined, signal).then((value) => itemsOf<Record<string, unknown>>(value)), [path]);
  const [editing, setEditing] = useState<{ row?: Record<string, unknown> } | null>(null);
  return (
    <Card size="small" title={t(title)} extra={editable && <Button onClick={() => setEditing({})}>{t('common.add')}</Button>}>
      {list.error ? <Alert type="error" title={errorText(list.error)} /> : null}
      <Table
        size="small"
        rowKey={(row) => String(row[idKey])}
        pagination={false}
        dataSource={list.data ?? []}
        columns={[
          ...columns.map((column, index) => ({
            title: column.title,
            key: String(index),
            render: (_: unknown, row: Record<string, unknown>) => column.render(row),
          })),
          ...(editable
            ? [
                {
                  title: '',
                  key: 'edit',
                  render: (_: unknown, row: Record<string, unknown>) => (
                    <Space>
                      <Button size="small" onClick={() => setEditing({ row })}>
                        {t('common.edit')}
                      </Button>
                      <Popconfirm
                        title={t('common.confirmDelete')}
                        onConfirm={() => void act(() => api.del(`${path}/${encodeURIComponent(String(row[idKey]))}`), list.reload)}
                      >
                        <Button size="small" danger>
                          {t('common.delete')}
                        </Button>
                      </Popconfirm>
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />
      <JsonModal
        open={editing !== null}
        title={t(title)}
        initial={editing?.row ? stripMeta(editing.row) : template}
        onClose={() => setEditing(null)}
        onSubmit={(value) =>
          act(
            () =>
              editing?.row
                ? method === 'PUT'
                  ? api.put(`${path}/${encodeURIComponent(String(editing.row[idKey]))}`, value)
                  : api.patch(`${path}/${encodeURIComponent(String(editing.row[idKey]))}`, value)
                : api.post(path, value),
            list.reload,
          )
        }
      />
    </Card>
  );
}

function stripMeta(row: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, createdAt: _c, updatedAt: _u, version: _v, createdBy: _b, updatedBy: _ub, ...rest } = row;
  return rest;
}

function UsersTab() {
  const t = useI18n().t;
  const act = useAct();
  const { hasRole } = useAuth();
  const users = useLoad((signal) => api.get('/api/v1/users', undefined, signal).then((value) => itemsOf<User>(value)), []);
  return (
    <Card size="small" title={t('admin.users')}>
      <Alert type="info" showIcon title={t('admin.rolesFromIdp')} style={{ marginBottom: 8 }} />
      <Table<User>
        size="small"
        rowKey="id"
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        dataSource={users.data ?? []}
        columns={[
          { title: t('common.name'), render: (_: unknown, user) => user.displayName ?? '—' },
          { title: t('customer.email'), dataIndex: 'email' },
          { title: t('admin.roles'), render: (_: unknown, user) => user.roles.map((role) => <Tag key={role}>{t(`role.${role}` as MessageKey)}</Tag>) },
          { title: t('admin.teams'), render: (_: unknown, user) => user.teamIds.map((team) => <Tag key={team}>{team}</Tag>) },
          {
            title: t('admin.active'),
            render: (_: unknown, user) => (
              <Switch
                checked={user.active}
                disabled={!hasRole('admin')}
                aria-label={t('admin.active')}
                onChange={(active) => void act(() => api.patch(`/api/v1/users/${user.id}`, { active }), users.reload)}
              />
            ),
          },
        ]}
      />
    </Card>
  );
}

function TeamsTab() {
  const t = useI18n().t;
  return (
    <JsonList
      title="admin.teams"
      path="/api/v1/teams"
      template={{ name: 'Support L1', externalGroup: 'support-l1' }}
      columns={[
        { title: 'ID', render: (row) => String(row.id) },
        { title: t('common.name'), render: (row) => String(row.name) },
        { title: t('admin.externalGroup'), render: (row) => String(row.externalGroup ?? '—') },
      ]}
    />
  );
}

function RoutingTab() {
  const t = useI18n().t;
  const act = useAct();
  const profiles = useLoad((signal) => api.get('/api/v1/routing/profiles', undefined, signal).then((value) => itemsOf<Record<string, unknown>>(value)), []);
  const presence = useLoad((signal) => api.get('/api/v1/routing/presence', undefined, signal).then((value) => itemsOf<Record<string, unknown>>(value)), []);
  const [editing, setEditing] = useState<Record<string, unknown> | null>(null);
  return (
    <Row gutter={12}>
      <Col xs={24} xl={14}>
        <Card size="small" title={t('admin.skills')}>
          <Table
            size="small"
            rowKey={(row) => String(row.agentId)}
            pagination={false}
            dataSource={profiles.data ?? []}
            columns={[
              { title: t('conversation.assignee'), render: (_: unknown, row) => String(row.displayName ?? row.agentId) },
              {
                title: t('admin.skillList'),
                render: (_: unknown, row) => ((row.skills as string[] | undefined) ?? []).map((skill) => <Tag key={skill}>{skill}</Tag>),
              },
              { title: t('customer.language'), render: (_: unknown, row) => ((row.languages as string[] | undefined) ?? []).join(', ') },
              { title: t('admin.capacity'), render: (_: unknown, row) => String(row.maxConcurrent ?? '—') },
              {
                title: '',
                render: (_: unknown, row) => (
                  <Button size="small" onClick={() => setEditing(row)}>
                    {t('common.edit')}
                  </Button>
                ),
              },
            ]}
          />
        </Card>
      </Col>
      <Col xs={24} xl={10}>
        <Card size="small" title={t('presence.label')}>
          <Table
            size="small"
            rowKey={(row) => String(row.agentId)}
            pagination={false}
            dataSource={presence.data ?? []}
            columns={[
              { title: t('conversation.assignee'), render: (_: unknown, row) => String(row.displayName ?? row.agentId) },
              { title: t('inbox.status'), render: (_: unknown, row) => <Tag>{String(row.status)}</Tag> },
              { title: t('admin.load'), render: (_: unknown, row) => String(row.activeCount ?? row.load ?? '—') },
            ]}
          />
        </Card>
      </Col>
      <JsonModal
        open={editing !== null}
        title={t('admin.skills')}
        initial={{
          skills: editing?.skills ?? [],
          languages: editing?.languages ?? [],
          maxConcurrent: editing?.maxConcurrent ?? 5,
          channelWeights: editing?.channelWeights ?? {},
        }}
        onClose={() => setEditing(null)}
        onSubmit={(value) => act(() => api.put(`/api/v1/routing/profiles/${String(editing?.agentId)}`, value), profiles.reload)}
      />
    </Row>
  );
}

function ChannelsTab() {
  const t = useI18n().t;
  const act = useAct();
  const { message: toast } = App.useApp();
  const inboxes = useLoad((signal) => api.get('/api/v1/inboxes', undefined, signal).then((value) => itemsOf<Inbox>(value)), []);
  const plugins = useLoad((signal) => api.get('/api/v1/plugins', undefined, signal).then((value) => itemsOf<PluginView>(value)), []);
  const instances = useLoad((signal) => api.get('/api/v1/plugins/instances', undefined, signal).then((value) => itemsOf<PluginInstance>(value)), []);
  const [editing, setEditing] = useState<{ plugin: PluginView; instance?: PluginInstance } | null>(null);
  const [meta, setMeta] = useState<{ id?: string; inboxId?: string }>({});
  const [form] = Form.useForm();
  const [inboxForm] = Form.useForm<{ name: string; channel: string; teamId?: string }>();
  const [testResult, setTestResult] = useState<{ ok: boolean; detail?: string } | null>(null);
  const pluginOf = (id: string) => (plugins.data ?? []).find((plugin) => plugin.id === id);

  const save = async (): Promise<PluginInstance | null> => {
    if (!editing) return null;
    const values = (await form.validateFields()) as Record<string, unknown>;
    const config = configFromValues(editing.plugin.configSchema ?? {}, values, editing.instance?.config);
    try {
      const saved = editing.instance
        ? await api.put<PluginInstance>(`/api/v1/plugins/instances/${editing.instance.id}`, { config, expectedVersion: editing.instance.version })
        : await api.post<PluginInstance>(`/api/v1/plugins/${editing.plugin.id}/instances`, {
            config,
            ...(meta.id ? { id: meta.id } : {}),
            ...(meta.inboxId ? { inboxId: meta.inboxId } : {}),
            enabled: true,
          });
      toast.success(t('common.saved'));
      instances.reload();
      // Secrets are write-only: once stored, the field is emptied (empty = keep the stored value).
      const secrets = Object.entries(editing.plugin.configSchema?.properties ?? {}).filter(([, property]) => isSecret(property));
      form.setFieldsValue(Object.fromEntries(secrets.map(([key]) => [key, ''])));
      setEditing({ plugin: editing.plugin, instance: saved });
      return saved;
    } catch (error) {
      toast.error(errorText(error));
      return null;
    }
  };
  const test = async () => {
    if (!editing) return;
    const values = form.getFieldsValue() as Record<string, unknown>;
    const instance = editing.instance ?? (await save());
    if (!instance) return;
    try {
      const config = configFromValues(editing.plugin.configSchema ?? {}, values, instance.config);
      setTestResult(await api.post<{ ok: boolean; detail?: string }>(`/api/v1/plugins/instances/${instance.id}/test`, { config }));
    } catch (error) {
      setTestResult({ ok: false, detail: errorText(error) });
    }
  };

  return (
    <Space direction="vertical" style={{ width: '100%' }} size={12}>
      <Card size="small" title={t('admin.inboxes')}>
        <Table<Inbox>
          size="small"
          rowKey="id"
          pagination={false}
          dataSource={inboxes.data ?? []}
          columns={[
            { title: t('common.name'), dataIndex: 'name' },
            { title: t('common.channel'), dataIndex: 'channel' },
            { title: t('common.team'), dataIndex: 'teamId' },
            { title: 'ID', dataIndex: 'id', render: (value: string) => <Typography.Text copyable={{ text: value }}>{value.slice(0, 8)}</Typography.Text> },
          ]}
        />
        <Form
          form={inboxForm}
          layout="inline"
          style={{ marginTop: 8 }}
          onFinish={(values) =>
            void act(
              () => api.post('/api/v1/inboxes', values),
              () => (inboxes.reload(), inboxForm.resetFields()),
            )
          }
        >
          <Form.Item name="name" rules={[{ required: true, message: t('common.required') }]}>
            <Input placeholder={t('common.name')} aria-label={t('common.name')} />
          </Form.Item>
          <Form.Item name="channel" rules={[{ required: true, message: t('common.required') }]}>
            <Input placeholder={t('common.channel')} aria-label={t('common.channel')} style={{ width: 120 }} />
          </Form.Item>
          <Form.Item name="teamId">
            <Input placeholder={t('common.team')} aria-label={t('common.team')} style={{ width: 120 }} />
          </Form.Item>
          <Button htmlType="submit">{t('admin.addInbox')}</Button>
        </Form>
      </Card>
      <Card size="small" title={t('admin.plugins')}>
        {plugins.error ? <Alert type="error" title={errorText(plugins.error)} /> : null}
        <Table<PluginView>
          size="small"
          rowKey="id"
          pagination={false}
          dataSource={plugins.data ?? []}
          data-testid="plugins-table"
          columns={[
            { title: 'ID', dataIndex: 'id' },
            { title: t('common.name'), render: (_: unknown, plugin) => plugin.displayName ?? plugin.id },
            { title: t('admin.kind'), dataIndex: 'kind' },
            { title: t('nlp.version'), dataIndex: 'version' },
            {
              title: '',
              render: (_: unknown, plugin) =>
                plugin.configSchema && (
                  <Button
                    size="small"
                    data-testid={`configure-${plugin.id}`}
                    onClick={() => (setMeta({}), setTestResult(null), form.resetFields(), setEditing({ plugin }))}
                  >
                    {t('admin.addInstance')}
                  </Button>
                ),
            },
          ]}
        />
      </Card>
      <Card size="small" title={t('admin.instances')}>
        <Table<PluginInstance>
          size="small"
          rowKey="id"
          pagination={false}
          dataSource={instances.data ?? []}
          data-testid="instances-table"
          columns={[
            { title: 'ID', dataIndex: 'id' },
            { title: t('admin.plugin'), dataIndex: 'pluginId' },
            {
              title: t('inbox.inbox'),
              dataIndex: 'inboxId',
              render: (value: string | null) => (value ? ((inboxes.data ?? []).find((inbox) => inbox.id === value)?.name ?? value.slice(0, 8)) : '—'),
            },
            {
              title: t('inbox.status'),
              dataIndex: 'status',
              render: (value: string, instance) => (
                <Space>
                  <Tag color={value === 'running' ? 'green' : value === 'disabled' ? 'default' : 'orange'}>{value}</Tag>
                  {instance.lastError && (
                    <Typography.Text type="danger" ellipsis style={{ maxWidth: 200 }}>
                      {instance.lastError}
                    </Typography.Text>
                  )}
                </Space>
              ),
            },
            {
              title: '',
              render: (_: unknown, instance) => (
                <Space>
                  <Button
                    size="small"
                    onClick={() => {
                      const plugin = pluginOf(instance.pluginId);
                      if (plugin) {
                        setTestResult(null);
                        form.resetFields();
                        setEditing({ plugin, instance });
                      }
                    }}
                  >
                    {t('common.edit')}
                  </Button>
                  <Switch
                    size="small"
                    checked={instance.enabled}
                    aria-label={t('admin.enabled')}
                    onChange={(enabled) =>
                      void act(() => api.post(`/api/v1/plugins/instances/${instance.id}/${enabled ? 'enable' : 'disable'}`), instances.reload)
                    }
                  />
                </Space>
              ),
            },
          ]}
        />
      </Card>
      <Modal
        open={editing !== null}
        destroyOnHidden
        width={640}
        title={editing ? `${editing.plugin.displayName ?? editing.plugin.id}${editing.instance ? ` · ${editing.instance.id}` : ''}` : ''}
        onCancel={() => setEditing(null)}
        footer={[
          <Button key="test" onClick={() => void test()} data-testid="plugin-test">
            {t('admin.test')}
          </Button>,
          <Button key="save" type="primary" onClick={() => void save()} data-testid="plugin-save">
            {t('common.save')}
          </Button>,
        ]}
      >
        {editing?.plugin.description && <Typography.Paragraph type="secondary">{editing.plugin.description}</Typography.Paragraph>}
        {editing && !editing.instance && (
          <Space style={{ marginBottom: 8 }} wrap>
            <Input
              placeholder={t('admin.instanceId')}
              aria-label={t('admin.instanceId')}
              value={meta.id}
              onChange={(event) => setMeta({ ...meta, id: event.target.value || undefined })}
              data-testid="instance-id"
            />
            <Select
              allowClear
              placeholder={editing.plugin.kind === 'channel' ? `${t('inbox.inbox')} *` : t('inbox.inbox')}
              aria-required={editing.plugin.kind === 'channel'}
              showSearch={{ optionFilterProp: 'label' }}
              aria-label={t('inbox.inbox')}
              style={{ width: 200 }}
              value={meta.inboxId}
              onChange={(inboxId) => setMeta({ ...meta, inboxId })}
              options={(inboxes.data ?? []).map((inbox) => ({ value: inbox.id, label: inbox.name }))}
              data-testid="instance-inbox"
            />
          </Space>
        )}
        {editing && (
          <SchemaForm
            key={editing.instance?.id ?? editing.plugin.id}
            schema={editing.plugin.configSchema ?? {}}
            form={form}
            existing={editing.instance?.config}
          />
        )}
        {testResult && (
          <Alert
            type={testResult.ok ? 'success' : 'error'}
            showIcon
            title={testResult.ok ? t('admin.testOk') : t('admin.testFailed')}
            description={testResult.detail}
            data-testid="plugin-test-result"
          />
        )}
      </Modal>
    </Space>
  );
}

function ApiKeysTab() {
  const t = useI18n().t;
  const act = useAct();
  const keys = useLoad((signal) => api.get('/api/v1/api-keys', undefined, signal).then((value) => itemsOf<Record<string, unknown>>(value)), []);
  const [created, setCreated] = useState<string | null>(null);
  const [form] = Form.useForm<{ name: string; scopes: string[]; teamId?: string }>();
  return (
    <Card size="small" title={t('admin.apiKeys')}>
      {created && (
        <Alert
          type="success"
          showIcon
          closable
          onClose={() => setCreated(null)}
          title={t('admin.keyOnce')}
          description={
            <Typography.Text code copyable>
              {created}
            </Typography.Text>
          }
          style={{ marginBottom: 8 }}
        />
      )}
      <Form
        form={form}
        layout="inline"
        style={{ marginBottom: 8 }}
        onFinish={(values) =>
          void act(async () => {
            const result = await api.post<{ key?: string; secret?: string; token?: string }>('/api/v1/api-keys', values);
            setCreated(result.key ?? result.token ?? result.secret ?? null);
            form.resetFields();
          }, keys.reload)
        }
      >
        <Form.Item name="name" rules={[{ required: true, message: t('common.required') }]}>
          <Input placeholder={t('common.name')} aria-label={t('common.name')} />
        </Form.Item>
        <Form.Item name="scopes" rules={[{ required: true, message: t('common.required') }]}>
          <Select
            mode="tags"
            placeholder={t('admin.scopes')}
            aria-label={t('admin.scopes')}
            style={{ minWidth: 260 }}
            options={[
              'conversations:read',
              'conversations:write',
              'tickets:read',
              'tickets:write',
              'contacts:read',
              'telemetry:write',
              'realtime:visitor_tokens',
            ].map((value) => ({ value, label: value }))}
          />
        </Form.Item>
        <Button htmlType="submit" type="primary">
          {t('admin.createKey')}
        </Button>
      </Form>
      <Table
        size="small"
        rowKey={(row) => String(row.id)}
        pagination={false}
        dataSource={keys.data ?? []}
        columns={[
          { title: t('common.name'), render: (_: unknown, row) => String(row.name) },
          { title: t('admin.prefix'), render: (_: unknown, row) => <Typography.Text code>{String(row.prefix ?? '')}</Typography.Text> },
          { title: t('admin.scopes'), render: (_: unknown, row) => ((row.scopes as string[]) ?? []).map((scope) => <Tag key={scope}>{scope}</Tag>) },
          { title: t('admin.lastUsed'), render: (_: unknown, row) => formatTime(row.lastUsedAt as string | null, 'en-US') },
          {
            title: t('inbox.status'),
            render: (_: unknown, row) => (row.revokedAt ? <Tag color="red">{t('admin.revoked')}</Tag> : <Tag color="green">{t('admin.active')}</Tag>),
          },
          {
            title: '',
            render: (_: unknown, row) =>
              !row.revokedAt && (
                <Popconfirm title={t('admin.revokeConfirm')} onConfirm={() => void act(() => api.del(`/api/v1/api-keys/${String(row.id)}`), keys.reload)}>
                  <Button size="small" danger>
                    {t('admin.revoke')}
                  </Button>
                </Popconfirm>
              ),
          },
        ]}
      />
    </Card>
  );
}

function AuditTab() {
  const { t, lang } = useI18n();
  const [filters, setFilters] = useState<Record<string, string | undefined>>({});
  const audit = useLoad(
    (signal) => api.get('/api/v1/audit', { ...filters, limit: 200 }, signal).then((value) => itemsOf<Record<string, unknown>>(value)),
    [JSON.stringify(filters)],
  );
  const [verify, setVerify] = useState<unknown>(null);
  return (
    <Card
      size="small"
      title={t('admin.audit')}
      extra={
        <Space>
          <Button onClick={() => void api.get('/api/v1/audit/verify').then(setVerify, (error: Error) => setVerify({ error: error.message }))}>
            {t('admin.verify')}
          </Button>
          <Button href={withQuery('/api/v1/audit/export', { ...filters, format: 'csv' })}>{t('admin.export')}</Button>
        </Space>
      }
    >
      <Space wrap style={{ marginBottom: 8 }}>
        <Input
          placeholder={t('admin.action')}
          aria-label={t('admin.action')}
          allowClear
          onChange={(event) => setFilters({ ...filters, action: event.target.value || undefined })}
        />
        <Input
          placeholder={t('admin.actor')}
          aria-label={t('admin.actor')}
          allowClear
          onChange={(event) => setFilters({ ...filters, actorId: event.target.value || undefined })}
        />
        <Select
          placeholder={t('admin.outcome')}
          aria-label={t('admin.outcome')}
          allowClear
          style={{ width: 120 }}
          onChange={(outcome) => setFilters({ ...filters, outcome })}
          options={['success', 'failure', 'denied'].map((value) => ({ value, label: value }))}
        />
        <DatePicker.RangePicker
          aria-label={t('analytics.range')}
          showTime
          onChange={(range) => setFilters({ ...filters, from: range?.[0]?.toISOString(), to: range?.[1]?.toISOString() })}
        />
      </Space>
      {verify !== null && (
        <Alert
          type={(verify as { ok?: boolean }).ok === false || (verify as { error?: string }).error ? 'error' : 'success'}
          title={JSON.stringify(verify)}
          style={{ marginBottom: 8 }}
        />
      )}
      <Table
        size="small"
        rowKey={(row) => String(row.seq)}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        dataSource={audit.data ?? []}
        columns={[
          { title: '#', render: (_: unknown, row) => String(row.seq) },
          { title: t('admin.time'), render: (_: unknown, row) => formatTime(String(row.at ?? row.time ?? row.createdAt ?? ''), lang) },
          {
            title: t('admin.actor'),
            render: (_: unknown, row) =>
              `${String(row.actorKind ?? (row.actor as { kind?: string } | undefined)?.kind ?? '')}:${String(row.actorId ?? (row.actor as { id?: string } | undefined)?.id ?? '—')}`.slice(
                0,
                40,
              ),
          },
          { title: t('admin.action'), render: (_: unknown, row) => <Typography.Text code>{String(row.action)}</Typography.Text> },
          { title: t('admin.object'), render: (_: unknown, row) => `${String(row.objectType ?? '')} ${String(row.objectId ?? '').slice(0, 12)}` },
          {
            title: t('admin.outcome'),
            render: (_: unknown, row) => (
              <Tag color={row.outcome === 'success' ? 'green' : row.outcome === 'denied' ? 'red' : 'orange'}>{String(row.outcome)}</Tag>
            ),
          },
          { title: 'IP', render: (_: unknown, row) => String(row.ip ?? '') },
        ]}
      />
    </Card>
  );
}

function SettingsTab() {
  const t = useI18n().t;
  const act = useAct();
  const settings = useLoad(
    (signal) =>
      api
        .get('/api/v1/settings', undefined, signal)
        .then((value) => itemsOf<{ key: string; value: unknown; version: number; description: string; updatedAt: string }>(value)),
    [],
  );
  const [editing, setEditing] = useState<{ key: string; value: unknown; version: number } | null>(null);
  return (
    <Card size="small" title={t('admin.settings')}>
      <Table
        size="small"
        rowKey="key"
        pagination={false}
        dataSource={settings.data ?? []}
        columns={[
          { title: t('admin.key'), dataIndex: 'key', render: (value: string) => <Typography.Text code>{value}</Typography.Text> },
          { title: t('admin.description'), dataIndex: 'description', ellipsis: true },
          {
            title: t('admin.value'),
            dataIndex: 'value',
            ellipsis: true,
            render: (value: unknown) => (
              <Typography.Text ellipsis style={{ maxWidth: 280 }}>
                {JSON.stringify(value)}
              </Typography.Text>
            ),
          },
          {
            title: '',
            key: 'e',
            render: (_: unknown, row) => (
              <Button size="small" onClick={() => setEditing(row)}>
                {t('common.edit')}
              </Button>
            ),
          },
        ]}
      />
      <JsonModal
        open={editing !== null}
        title={editing?.key ?? ''}
        initial={editing?.value ?? null}
        onClose={() => setEditing(null)}
        onSubmit={(value) => act(() => api.put(`/api/v1/settings/${editing!.key}`, { value, expectedVersion: editing!.version }), settings.reload)}
      />
    </Card>
  );
}

export function AdminPage() {
  const t = useI18n().t;
  const { tab = 'users' } = useParams();
  const navigate = useNavigate();
  const { hasRole } = useAuth();
  const admin = hasRole('admin');
  const tabs: Array<{ key: string; label: MessageKey; node: ReactNode; adminOnly?: boolean }> = [
    { key: 'users', label: 'admin.users', node: <UsersTab />, adminOnly: true },
    { key: 'teams', label: 'admin.teams', node: <TeamsTab />, adminOnly: true },
    { key: 'routing', label: 'admin.skills', node: <RoutingTab />, adminOnly: true },
    {
      key: 'hours',
      label: 'admin.hours',
      adminOnly: true,
      node: (
        <JsonList
          title="admin.hours"
          path="/api/v1/sla/calendars"
          template={{
            name: 'Shanghai office',
            timeZone: 'Asia/Shanghai',
            hours: { mon: [['09:00', '18:00']], tue: [['09:00', '18:00']], wed: [['09:00', '18:00']], thu: [['09:00', '18:00']], fri: [['09:00', '18:00']] },
            holidays: ['2026-10-01'],
          }}
          columns={[
            { title: t('common.name'), render: (row) => String(row.name) },
            { title: t('admin.timeZone'), render: (row) => String(row.timeZone) },
          ]}
        />
      ),
    },
    {
      key: 'sla',
      label: 'admin.sla',
      adminOnly: true,
      node: (
        <JsonList
          title="admin.sla"
          path="/api/v1/sla/policies"
          template={{
            name: 'Urgent',
            position: 0,
            enabled: true,
            conditions: { priorities: ['urgent'] },
            targets: { firstResponseMinutes: 30, resolutionMinutes: 240 },
            warningMinutes: 10,
          }}
          columns={[
            { title: t('common.name'), render: (row) => String(row.name) },
            { title: t('admin.targets'), render: (row) => JSON.stringify(row.targets) },
            { title: t('admin.enabled'), render: (row) => (row.enabled ? '✓' : '—') },
          ]}
        />
      ),
    },
    {
      key: 'automation',
      label: 'admin.automation',
      adminOnly: true,
      node: (
        <Space direction="vertical" style={{ width: '100%' }} size={12}>
          <JsonList
            title="admin.rules"
            path="/api/v1/automation/rules"
            template={{
              name: 'VIP → urgent',
              trigger: 'ticket.created',
              conditions: { all: [{ field: 'contact.vip', op: 'eq', value: true }] },
              actions: [{ type: 'set_priority', value: 'urgent' }],
              enabled: true,
            }}
            columns={[
              { title: t('common.name'), render: (row) => String(row.name) },
              { title: t('admin.trigger'), render: (row) => <Tag>{String(row.trigger)}</Tag> },
              { title: t('admin.enabled'), render: (row) => (row.enabled ? '✓' : '—') },
            ]}
          />
          <JsonList
            title="admin.macros"
            path="/api/v1/automation/macros"
            template={{
              name: 'Escalate to L2',
              actions: [
                { type: 'set_priority', value: 'high' },
                { type: 'add_note', body: 'Escalated' },
              ],
            }}
            columns={[
              { title: t('common.name'), render: (row) => String(row.name) },
              {
                title: t('admin.actions'),
                render: (row) => ((row.actions as Array<{ type: string }>) ?? []).map((action, index) => <Tag key={index}>{action.type}</Tag>),
              },
            ]}
          />
          <JsonList
            title="admin.canned"
            path="/api/v1/automation/canned-responses"
            template={{ name: 'Greeting', shortcut: 'hi', body: 'Hello {{contact.name}}, how can I help?' }}
            columns={[
              { title: t('common.name'), render: (row) => String(row.name) },
              { title: t('admin.shortcut'), render: (row) => (row.shortcut ? `/${String(row.shortcut)}` : '—') },
              {
                title: t('admin.body'),
                render: (row) => (
                  <Typography.Text ellipsis style={{ maxWidth: 360 }}>
                    {String(row.body)}
                  </Typography.Text>
                ),
              },
            ]}
          />
        </Space>
      ),
    },
    { key: 'channels', label: 'admin.channels', node: <ChannelsTab />, adminOnly: true },
    { key: 'api-keys', label: 'admin.apiKeys', node: <ApiKeysTab />, adminOnly: true },
    { key: 'audit', label: 'admin.audit', node: <AuditTab /> },
    { key: 'settings', label: 'admin.settings', node: <SettingsTab />, adminOnly: true },
  ];
  const visible = tabs.filter((item) => admin || !item.adminOnly);
  const active = visible.some((item) => item.key === tab) ? tab : visible[0]!.key;
  return (
    <Tabs
      activeKey={active}
      onChange={(key) => navigate(`/admin/${key}`)}
      items={visible.map((item) => ({ key: item.key, label: t(item.label), children: item.node }))}
      destroyOnHidden
    />
  );
}
