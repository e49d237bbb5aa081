import { useEffect, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { Alert, Card, Col, Descriptions, Input, List, Row, Segmented, Select, Space, Table, Tag, Timeline, Typography } from 'antd';
import { api } from '../api';
import { useI18n, type MessageKey } from '../i18n';
import type { Device, Episode, Page, Reading, Ticket } from '../types';
import { StateTag, errorText, formatTime, itemsOf, useLoad } from '../util';
import { Chart } from '../components/Chart';

export function DevicesPage() {
  const { t, lang } = useI18n();
  const [model, setModel] = useState<string | undefined>();
  const [site, setSite] = useState<string | undefined>();
  const [state, setState] = useState<string | undefined>();
  const [search, setSearch] = useState('');
  const all = useLoad((signal) => api.get<Page<Device>>('/api/v1/devices', { limit: 500 }, signal), []);
  const list = useLoad((signal) => api.get<Page<Device>>('/api/v1/devices', { model, site, state, limit: 500 }, signal), [model, site, state]);
  const models = [...new Set((all.data?.items ?? []).map((device) => device.model).filter(Boolean))] as string[];
  const sites = [...new Set((all.data?.items ?? []).map((device) => device.site).filter(Boolean))] as string[];
  const rows = (list.data?.items ?? []).filter(
    (device) => !search || `${device.id} ${device.name} ${device.serialNumber ?? ''}`.toLowerCase().includes(search.toLowerCase()),
  );
  const counts = (all.data?.items ?? []).reduce<Record<string, number>>((acc, device) => ({ ...acc, [device.state]: (acc[device.state] ?? 0) + 1 }), {});
  return (
    <Card
      title={t('nav.devices')}
      extra={
        <Space wrap>
          {Object.entries(counts).map(([key, count]) => (
            <StateTag key={key} value={key} label={`${t(`deviceState.${key}` as MessageKey)}: ${count}`} />
          ))}
        </Space>
      }
    >
      <Space wrap style={{ marginBottom: 12 }}>
        <Input.Search
          aria-label={t('common.search')}
          placeholder={t('common.search')}
          allowClear
          onChange={(event) => setSearch(event.target.value)}
          style={{ width: 200 }}
        />
        <Select
          aria-label={t('device.model')}
          allowClear
          placeholder={t('device.model')}
          value={model}
          onChange={setModel}
          style={{ width: 160 }}
          options={models.map((value) => ({ value, label: value }))}
          data-testid="model-filter"
        />
        <Select
          aria-label={t('device.site')}
          allowClear
          placeholder={t('device.site')}
          value={site}
          onChange={setSite}
          style={{ width: 160 }}
          options={sites.map((value) => ({ value, label: value }))}
          data-testid="site-filter"
        />
        <Select
          aria-label={t('device.state')}
          allowClear
          placeholder={t('device.state')}
          value={state}
          onChange={setState}
          style={{ width: 130 }}
          options={['ok', 'warning', 'fault', 'offline', 'unknown'].map((value) => ({ value, label: t(`deviceState.${value}` as MessageKey) }))}
        />
      </Space>
      {list.error ? <Alert type="error" title={errorText(list.error)} /> : null}
      <Table<Device>
        size="small"
        rowKey="id"
        loading={list.loading}
        dataSource={rows}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        data-testid="devices-table"
        columns={[
          { title: 'ID', dataIndex: 'id', render: (value: string) => <Link to={`/devices/${encodeURIComponent(value)}`}>{value}</Link> },
          { title: t('common.name'), dataIndex: 'name' },
          { title: t('device.model'), dataIndex: 'model' },
          { title: t('device.site'), dataIndex: 'site' },
          {
            title: t('device.state'),
            dataIndex: 'state',
            render: (value: string) => <StateTag value={value} label={t(`deviceState.${value}` as MessageKey)} />,
          },
          { title: t('device.lastSeen'), dataIndex: 'lastSeenAt', render: (value: string | null) => formatTime(value, lang) },
        ]}
      />
    </Card>
  );
}

const WINDOWS: Record<string, number> = { '15m': 15 * 60_000, '1h': 3600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };

export function DeviceDetailPage() {
  const { deviceId = '' } = useParams();
  const { t, lang } = useI18n();
  const [window, setWindow] = useState<string>('24h');
  const [tick, setTick] = useState(0);
  const device = useLoad((signal) => api.get<Device>(`/api/v1/devices/${encodeURIComponent(deviceId)}`, undefined, signal), [deviceId, tick]);
  const readings = useLoad(
    (signal) =>
      api
        .get(`/api/v1/devices/${encodeURIComponent(deviceId)}/readings`, { since: new Date(Date.now() - WINDOWS[window]!).toISOString(), limit: 2000 }, signal)
        .then((value) => itemsOf<Reading>(value)),
    [deviceId, window, tick],
  );
  const episodes = useLoad(
    (signal) => api.get(`/api/v1/devices/${encodeURIComponent(deviceId)}/episodes`, undefined, signal).then((value) => itemsOf<Episode>(value)),
    [deviceId, tick],
  );
  const tickets = useLoad(
    (signal) => api.get(`/api/v1/devices/${encodeURIComponent(deviceId)}/tickets`, undefined, signal).then((value) => itemsOf<Ticket>(value)),
    [deviceId, tick],
  );
  // Live: the gateway has no device topic yet, so the charts poll every 5 s.
  useEffect(() => {
    const timer = setInterval(() => setTick((value) => value + 1), 5000);
    return () => clearInterval(timer);
  }, []);
  const byMetric = useMemo(() => {
    const map = new Map<string, Array<[number, number]>>();
    for (const reading of readings.data ?? []) {
      const value = typeof reading.value === 'number' ? reading.value : typeof reading.value === 'boolean' ? Number(reading.value) : Number.NaN;
      if (!Number.isFinite(value)) continue;
      const series = map.get(reading.metric) ?? [];
      series.push([new Date(reading.ts).getTime(), value]);
      map.set(reading.metric, series);
    }
    for (const series of map.values()) series.sort((a, b) => a[0] - b[0]);
    return map;
  }, [readings.data]);
  const d = device.data;
  if (device.error) return <Alert type="error" title={errorText(device.error)} />;
  return (
    <Row gutter={12}>
      <Col xs={24} xl={16}>
        <Card
          size="small"
          title={t('device.metrics')}
          extra={
            <Segmented
              size="small"
              aria-label={t('device.window')}
              value={window}
              onChange={(value) => setWindow(String(value))}
              options={Object.keys(WINDOWS)}
            />
          }
        >
          {byMetric.size === 0 && <Typography.Text type="secondary">{t('device.noReadings')}</Typography.Text>}
          {[...byMetric.entries()].map(([metric, series]) => (
            <Chart
              key={metric}
              label={`${metric}`}
              height={200}
              testId="metric-chart"
              option={{
                title: { text: metric, textStyle: { fontSize: 13 } },
                grid: { left: 48, right: 16, top: 32, bottom: 28 },
                tooltip: { trigger: 'axis' },
                xAxis: { type: 'time' },
                yAxis: { type: 'value', scale: true },
                series: [{ type: 'line', showSymbol: false, data: series, areaStyle: { opacity: 0.08 } }],
                animation: false,
              }}
            />
          ))}
        </Card>
        <Card size="small" title={t('device.episodes')} style={{ marginTop: 12 }}>
          {(episodes.data ?? []).length === 0 ? (
            <Typography.Text type="secondary">{t('common.none')}</Typography.Text>
          ) : (
            <Timeline
              items={(episodes.data ?? []).map((episode) => ({
                color: episode.status === 'open' ? 'red' : 'green',
                children: (
                  <span>
                    <Tag color={episode.severity === 'critical' || episode.severity === 'major' ? 'red' : 'orange'}>{episode.severity}</Tag>
                    <Typography.Text strong>{episode.title}</Typography.Text> {episode.code && <Tag>{episode.code}</Tag>} · {formatTime(episode.openedAt, lang)}{' '}
                    → {episode.closedAt ? formatTime(episode.closedAt, lang) : t('device.ongoing')}
                    {episode.ticketId && (
                      <>
                        {' '}
                        · <Link to={`/tickets/${episode.ticketId}`}>{t('device.ticket')}</Link>
                      </>
                    )}
                  </span>
                ),
              }))}
            />
          )}
        </Card>
      </Col>
      <Col xs={24} xl={8}>
        <Card size="small" title={d?.name ?? deviceId} extra={d && <StateTag value={d.state} label={t(`deviceState.${d.state}` as MessageKey)} />}>
          {d && (
            <Descriptions size="small" column={1}>
              <Descriptions.Item label="ID">{d.id}</Descriptions.Item>
              <Descriptions.Item label={t('device.model')}>{d.model ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={t('device.serial')}>{d.serialNumber ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={t('device.firmware')}>{d.firmware ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={t('device.site')}>{d.site ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={t('device.location')}>{d.location ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={t('device.lastSeen')}>{formatTime(d.lastSeenAt, lang)}</Descriptions.Item>
              <Descriptions.Item label={t('common.tags')}>
                {d.tags.map((tag) => (
                  <Tag key={tag}>{tag}</Tag>
                ))}
              </Descriptions.Item>
            </Descriptions>
          )}
        </Card>
        <Card size="small" title={t('device.tickets')} style={{ marginTop: 12 }}>
          <List
            size="small"
            dataSource={tickets.data ?? []}
            locale={{ emptyText: t('common.none') }}
            renderItem={(ticket) => (
              <List.Item>
                <Space>
                  <Link to={`/tickets/${ticket.id}`}>#{ticket.number}</Link>
                  <Typography.Text ellipsis style={{ maxWidth: 180 }}>
                    {ticket.subject}
                  </Typography.Text>
                  <StateTag value={ticket.status} label={t(`ticketStatus.${ticket.status}` as MessageKey)} />
                </Space>
              </List.Item>
            )}
          />
        </Card>
      </Col>
    </Row>
  );
}
