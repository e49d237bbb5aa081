import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { App as AntApp, Badge, Button, ConfigProvider, Dropdown, Layout, Menu, Modal, Segmented, Select, Space, Spin, Tag, Tooltip, Typography } from 'antd';
import {
  AlertOutlined,
  BarChartOutlined,
  BookOutlined,
  CustomerServiceOutlined,
  ExperimentOutlined,
  LogoutOutlined,
  RobotOutlined,
  SettingOutlined,
  TagsOutlined,
  UserOutlined,
} from '@ant-design/icons';
import zhCN from 'antd/locale/zh_CN';
import enUS from 'antd/locale/en_US';
import { LANGS, useI18n, useT, type Lang, type MessageKey } from './i18n';
import { AuthProvider, useAuth } from './auth';
import { api } from './api';
import type { ConnectionState } from './realtime';
import type { Role } from './types';
import { typingInField } from './util';
import { LoginPage } from './pages/LoginPage';
import { InboxPage } from './pages/InboxPage';
import { TicketsPage, TicketDetailPage } from './pages/TicketsPage';
import { KnowledgePage } from './pages/KnowledgePage';
import { BotPage } from './pages/BotPage';
import { NlpPage } from './pages/NlpPage';
import { DevicesPage, DeviceDetailPage } from './pages/DevicesPage';
import { AnalyticsPage } from './pages/AnalyticsPage';
import { AdminPage } from './pages/AdminPage';

export function Root() {
  const { lang } = useI18n();
  return (
    <ConfigProvider locale={lang === 'zh-CN' ? zhCN : enUS} theme={{ token: { colorPrimary: '#1668dc', borderRadius: 6 } }} componentSize="middle">
      <AntApp>
        <AuthProvider>
          <BrowserRouter>
            <Gate />
          </BrowserRouter>
        </AuthProvider>
      </AntApp>
    </ConfigProvider>
  );
}

function Gate() {
  const { actor, loading } = useAuth();
  const t = useT();
  if (loading)
    return (
      <div style={{ display: 'grid', placeItems: 'center', height: '100vh' }}>
        <Spin size="large" tip={t('common.loading')}>
          <div style={{ width: 80, height: 80 }} />
        </Spin>
      </div>
    );
  if (!actor) return <LoginPage />;
  return <Shell />;
}

interface NavItem {
  path: string;
  key: MessageKey;
  icon: ReactNode;
  roles: Role[];
  /** Two-key shortcut after `g`. */
  hotkey: string;
}

export const NAV: NavItem[] = [
  { path: '/inbox', key: 'nav.inbox', icon: <CustomerServiceOutlined />, roles: ['admin', 'supervisor', 'agent'], hotkey: 'i' },
  { path: '/tickets', key: 'nav.tickets', icon: <TagsOutlined />, roles: ['admin', 'supervisor', 'agent', 'auditor'], hotkey: 't' },
  { path: '/knowledge', key: 'nav.knowledge', icon: <BookOutlined />, roles: ['admin', 'supervisor', 'agent'], hotkey: 'k' },
  { path: '/bot', key: 'nav.bot', icon: <RobotOutlined />, roles: ['admin', 'supervisor'], hotkey: 'b' },
  { path: '/nlp', key: 'nav.nlp', icon: <ExperimentOutlined />, roles: ['admin', 'supervisor'], hotkey: 'n' },
  { path: '/devices', key: 'nav.devices', icon: <AlertOutlined />, roles: ['admin', 'supervisor', 'agent'], hotkey: 'd' },
  { path: '/analytics', key: 'nav.analytics', icon: <BarChartOutlined />, roles: ['admin', 'supervisor'], hotkey: 'a' },
  { path: '/admin', key: 'nav.admin', icon: <SettingOutlined />, roles: ['admin', 'auditor'], hotkey: 's' },
];

export const SHORTCUTS: Array<[string, MessageKey]> = [
  ['g i / g t / g d / g a / g s', 'shortcut.goto'],
  ['j / k', 'shortcut.nextPrev'],
  ['r', 'shortcut.reply'],
  ['n', 'shortcut.note'],
  ['/', 'shortcut.canned'],
  ['Ctrl+Enter', 'shortcut.send'],
  ['Alt+Shift+R', 'shortcut.resolve'],
  ['Alt+Shift+A', 'shortcut.assignMe'],
  ['Alt+Shift+O', 'shortcut.online'],
  ['Alt+L', 'shortcut.language'],
  ['?', 'shortcut.help'],
];

function Shell() {
  const { actor, hasRole, logout, realtime } = useAuth();
  const { lang, setLang, t } = useI18n();
  const navigate = useNavigate();
  const location = useLocation();
  const [help, setHelp] = useState(false);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [presence, setPresence] = useState<string | undefined>(undefined);
  const pendingG = useRef(0);
  const items = useMemo(() => NAV.filter((item) => hasRole(...item.roles)), [hasRole]);
  const canPresence = hasRole('admin', 'supervisor', 'agent');

  useEffect(() => realtime?.onState(setConnection), [realtime]);
  useEffect(() => {
    if (!canPresence) return;
    api
      .get<{ status: string }>('/api/v1/routing/presence/me')
      .then((view) => setPresence(view.status))
      .catch(() => setPresence(undefined));
  }, [canPresence]);

  const changePresence = async (status: string) => {
    const view = await api.put<{ status: string }>('/api/v1/routing/presence/me', { status });
    setPresence(view.status);
  };

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.altKey && !event.ctrlKey && (event.key === 'l' || event.key === 'L' || event.code === 'KeyL') && !event.shiftKey) {
        event.preventDefault();
        setLang(lang === 'zh-CN' ? 'en-US' : 'zh-CN');
        return;
      }
      if (event.altKey && event.shiftKey && event.code === 'KeyO' && canPresence) {
        event.preventDefault();
        void changePresence(presence === 'online' ? 'away' : 'online');
        return;
      }
      if (typingInField(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === '?') {
        setHelp(true);
        return;
      }
      if (event.key === 'g') {
        pendingG.current = Date.now();
        return;
      }
      if (Date.now() - pendingG.current < 1200) {
        const item = items.find((nav) => nav.hotkey === event.key);
        pendingG.current = 0;
        if (item) navigate(item.path);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const selected = items.find((item) => location.pathname.startsWith(item.path))?.path;
  const home = items[0]?.path ?? '/tickets';
  const connectionColour = connection === 'open' ? 'success' : connection === 'closed' ? 'default' : 'warning';

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <a className="sb-skip" href="#main">
        {t('common.skipToContent')}
      </a>
      <Layout.Sider breakpoint="lg" collapsedWidth={56} width={200} theme="dark">
        <div className="sb-brand">Switchboard</div>
        <nav aria-label={t('nav.label')}>
          <Menu
            theme="dark"
            mode="inline"
            selectedKeys={selected ? [selected] : []}
            items={items.map((item) => ({ key: item.path, icon: item.icon, label: t(item.key) }))}
            onClick={(info) => navigate(info.key)}
          />
        </nav>
      </Layout.Sider>
      <Layout>
        <Layout.Header
          style={{
            background: '#fff',
            padding: '0 16px',
            display: 'flex',
            alignItems: 'center',
            justifyContent: 'space-between',
            borderBottom: '1px solid #f0f0f0',
          }}
        >
          <Typography.Text strong>{t(items.find((item) => item.path === selected)?.key ?? 'nav.home')}</Typography.Text>
          <Space size="middle">
            <Tooltip title={t('realtime.tooltip')}>
              <Badge status={connectionColour} text={t(`realtime.${connection}` as MessageKey)} data-testid="connection" />
            </Tooltip>
            {canPresence && (
              <Segmented
                aria-label={t('presence.label')}
                data-testid="presence"
                value={presence ?? 'offline'}
                onChange={(value) => void changePresence(String(value))}
                options={[
                  { value: 'online', label: t('presence.online') },
                  { value: 'away', label: t('presence.away') },
                  { value: 'offline', label: t('presence.offline') },
                ]}
              />
            )}
            <Select<Lang>
              aria-label={t('common.language')}
              data-testid="language"
              value={lang}
              onChange={setLang}
              style={{ width: 110 }}
              options={LANGS.map((value) => ({ value, label: value === 'zh-CN' ? '简体中文' : 'English' }))}
            />
            <Button type="text" aria-label={t('shortcut.help')} onClick={() => setHelp(true)}>
              ?
            </Button>
            <Dropdown
              menu={{
                items: [
                  { key: 'roles', label: actor!.roles.map((role) => t(`role.${role}` as MessageKey)).join(', '), disabled: true },
                  { key: 'logout', icon: <LogoutOutlined />, label: t('auth.logout'), onClick: () => void logout() },
                ],
              }}
            >
              <Button icon={<UserOutlined />} data-testid="user-menu">
                {actor!.displayName ?? actor!.id}
              </Button>
            </Dropdown>
          </Space>
        </Layout.Header>
        <Layout.Content id="main" tabIndex={-1} style={{ padding: 16, outline: 'none' }}>
          <Routes>
            <Route path="/" element={<Navigate to={home} replace />} />
            <Route
              path="/inbox"
              element={
                <Guard roles={['admin', 'supervisor', 'agent']}>
                  <InboxPage />
                </Guard>
              }
            />
            <Route
              path="/inbox/:conversationId"
              element={
                <Guard roles={['admin', 'supervisor', 'agent']}>
                  <InboxPage />
                </Guard>
              }
            />
            <Route
              path="/tickets"
              element={
                <Guard roles={['admin', 'supervisor', 'agent', 'auditor']}>
                  <TicketsPage />
                </Guard>
              }
            />
            <Route
              path="/tickets/:ticketId"
              element={
                <Guard roles={['admin', 'supervisor', 'agent', 'auditor']}>
                  <TicketDetailPage />
                </Guard>
              }
            />
            <Route path="/knowledge" element={<KnowledgePage />} />
            <Route
              path="/bot"
              element={
                <Guard roles={['admin', 'supervisor']}>
                  <BotPage />
                </Guard>
              }
            />
            <Route
              path="/nlp"
              element={
                <Guard roles={['admin', 'supervisor']}>
                  <NlpPage />
                </Guard>
              }
            />
            <Route
              path="/devices"
              element={
                <Guard roles={['admin', 'supervisor', 'agent']}>
                  <DevicesPage />
                </Guard>
              }
            />
            <Route
              path="/devices/:deviceId"
              element={
                <Guard roles={['admin', 'supervisor', 'agent']}>
                  <DeviceDetailPage />
                </Guard>
              }
            />
            <Route
              path="/analytics"
              element={
                <Guard roles={['admin', 'supervisor']}>
                  <AnalyticsPage />
                </Guard>
              }
            />
            <Route
              path="/admin"
              element={
                <Guard roles={['admin', 'auditor']}>
                  <AdminPage />
                </Guard>
              }
            />
            <Route
              path="/admin/:tab"
              element={
                <Guard roles={['admin', 'auditor']}>
                  <AdminPage />
                </Guard>
              }
            />
            <Route path="*" element={<Typography.Paragraph>{t('common.notFound')}</Typography.Paragraph>} />
          </Routes>
        </Layout.Content>
      </Layout>
      <Modal open={help} onCancel={() => setHelp(false)} footer={null} title={t('shortcut.title')}>
        <table style={{ width: '100%' }}>
          <tbody>
            {SHORTCUTS.map(([keys, label]) => (
              <tr key={keys}>
                <td style={{ padding: 4 }}>
                  {keys.split(' / ').map((key) => (
                    <Tag key={key} className="sb-kbd">
                      {key}
                    </Tag>
                  ))}
                </td>
                <td style={{ padding: 4 }}>{t(label)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Modal>
    </Layout>
  );
}

function Guard({ roles, children }: { roles: Role[]; children: ReactNode }) {
  const { hasRole } = useAuth();
  const t = useT();
  if (!hasRole(...roles)) return <Typography.Paragraph role="alert">{t('common.forbidden')}</Typography.Paragraph>;
  return <>{children}</>;
}
