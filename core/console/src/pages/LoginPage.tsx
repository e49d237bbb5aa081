import { useEffect, useState } from 'react';
import { Alert, Button, Card, Divider, Form, Input, Select, Space, Typography } from 'antd';
import { LoginOutlined } from '@ant-design/icons';
import { api, ApiError } from '../api';
import { useAuth } from '../auth';
import { LANGS, useI18n, type Lang } from '../i18n';

export function LoginPage() {
  const { t, lang, setLang } = useI18n();
  const { refresh } = useAuth();
  const [options, setOptions] = useState<{ oidc: boolean; localLogin: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .get<{ oidc: boolean; localLogin: boolean }>('/api/v1/auth/config')
      .then(setOptions)
      .catch(() => setOptions({ oidc: false, localLogin: true }));
  }, []);

  const returnTo = window.location.pathname + window.location.search;
  const submit = async (values: { username: string; password: string }) => {
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/v1/auth/local/login', values);
      await refresh();
    } catch (failure) {
      setError(failure instanceof ApiError && failure.status === 401 ? t('auth.wrongPassword') : t('auth.failed'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main style={{ display: 'grid', placeItems: 'center', minHeight: '100vh', background: '#f0f2f5' }}>
      <Card style={{ width: 380 }}>
        <Space style={{ width: '100%', justifyContent: 'space-between' }}>
          <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>
            Switchboard
          </Typography.Title>
          <Select<Lang>
            aria-label={t('common.language')}
            value={lang}
            onChange={setLang}
            size="small"
            options={LANGS.map((value) => ({ value, label: value === 'zh-CN' ? '简体中文' : 'English' }))}
          />
        </Space>
        <Typography.Paragraph type="secondary">{t('auth.subtitle')}</Typography.Paragraph>
        {error && <Alert type="error" title={error} role="alert" showIcon style={{ marginBottom: 12 }} />}
        {options?.oidc && (
          <Button type="primary" block icon={<LoginOutlined />} href={`/api/v1/auth/login?returnTo=${encodeURIComponent(returnTo)}`} data-testid="sso-login">
            {t('auth.sso')}
          </Button>
        )}
        {options?.oidc && options.localLogin && <Divider plain>{t('auth.or')}</Divider>}
        {options?.localLogin && (
          <Form layout="vertical" onFinish={submit} requiredMark={false}>
            <Form.Item label={t('auth.username')} name="username" rules={[{ required: true, message: t('common.required') }]}>
              <Input autoComplete="username" autoFocus data-testid="username" />
            </Form.Item>
            <Form.Item label={t('auth.password')} name="password" rules={[{ required: true, message: t('common.required') }]}>
              <Input.Password autoComplete="current-password" data-testid="password" />
            </Form.Item>
            <Button htmlType="submit" type={options.oidc ? 'default' : 'primary'} block loading={busy} data-testid="local-login">
              {t('auth.localLogin')}
            </Button>
          </Form>
        )}
        {options && !options.oidc && !options.localLogin && <Alert type="warning" title={t('auth.noMethod')} />}
      </Card>
    </main>
  );
}
