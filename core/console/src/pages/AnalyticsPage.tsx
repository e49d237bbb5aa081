import { useMemo, useState } from 'react';
import { Alert, Button, Card, Col, Row, Segmented, Select, Space, Statistic, Table } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { api, withQuery } from '../api';
import { useI18n, type MessageKey } from '../i18n';
import type { MetricValues, Report, ReportRow } from '../types';
import { errorText, formatDuration, percent, useLoad } from '../util';
import { Chart } from '../components/Chart';

type Dimension = 'day' | 'team' | 'agent' | 'channel';
const RANGES: Record<string, number> = { '7d': 7, '30d': 30, '90d': 90 };

export function rowLabel(row: ReportRow, dimension: Dimension): string {
  const value = row[dimension];
  return value === null || value === undefined ? '—' : String(value);
}

export function AnalyticsPage() {
  const { t } = useI18n();
  const [range, setRange] = useState('30d');
  const [groupBy, setGroupBy] = useState<Dimension>('day');
  const [channel, setChannel] = useState<string | undefined>();
  const query = useMemo(() => {
    const to = new Date();
    to.setUTCHours(23, 59, 59, 999);
    const from = new Date(to.getTime() - RANGES[range]! * 86_400_000 + 1);
    return { from: from.toISOString(), to: to.toISOString(), groupBy, channel };
  }, [range, groupBy, channel]);
  const report = useLoad((signal) => api.get<Report>('/api/v1/analytics/report', query, signal), [JSON.stringify(query)]);
  const rows = report.data?.rows ?? [];
  const labels = rows.map((row) => rowLabel(row, groupBy));
  const totals: Partial<MetricValues> = report.data?.totals ?? {};
  const series = (key: keyof MetricValues, scale = 1) =>
    rows.map((row) => (row.metrics[key] === null ? null : Math.round((row.metrics[key] as number) * scale * 10) / 10));
  const axis = groupBy === 'day' ? { type: 'category' as const, data: labels } : { type: 'category' as const, data: labels, axisLabel: { rotate: 20 } };
  const chart = (title: MessageKey, option: { series: Array<{ name: string; type: 'bar' | 'line'; data: Array<number | null> }>; unit?: string }) => (
    <Col xs={24} lg={12} xl={8} key={title}>
      <Card size="small" title={t(title)}>
        <Chart
          label={t(title)}
          testId="analytics-chart"
          option={{
            tooltip: { trigger: 'axis' },
            legend: { top: 0, textStyle: { fontSize: 11 } },
            grid: { left: 44, right: 12, top: 28, bottom: 36 },
            xAxis: axis,
            yAxis: { type: 'value', name: option.unit, nameTextStyle: { fontSize: 10 } },
            series: option.series.map((entry) => ({ ...entry, connectNulls: true, barMaxWidth: 24 })),
            animation: false,
          }}
        />
      </Card>
    </Col>
  );
  const csv = withQuery('/api/v1/analytics/report.csv', query);
  return (
    <Space direction="vertical" style={{ width: '100%' }} size={12}>
      <Card size="small">
        <Space wrap>
          <Segmented
            aria-label={t('analytics.range')}
            value={range}
            onChange={(value) => setRange(String(value))}
            options={Object.keys(RANGES).map((value) => ({ value, label: t(`analytics.range.${value}` as MessageKey) }))}
          />
          <Segmented
            aria-label={t('analytics.groupBy')}
            data-testid="group-by"
            value={groupBy}
            onChange={(value) => setGroupBy(value as Dimension)}
            options={(['day', 'team', 'agent', 'channel'] as Dimension[]).map((value) => ({ value, label: t(`analytics.by.${value}` as MessageKey) }))}
          />
          <Select
            aria-label={t('common.channel')}
            allowClear
            placeholder={t('common.channel')}
            value={channel}
            onChange={setChannel}
            style={{ width: 130 }}
            options={['webchat', 'email', 'api', 'wechat', 'sms'].map((value) => ({ value, label: value }))}
          />
          <Button icon={<DownloadOutlined />} href={csv} download="switchboard-report.csv" data-testid="csv">
            {t('analytics.csv')}
          </Button>
        </Space>
      </Card>
      {report.error ? <Alert type="error" title={errorText(report.error)} /> : null}
      <Row gutter={[12, 12]}>
        {(
          [
            ['analytics.volume', String(totals.conversationsCreated ?? 0)],
            ['analytics.firstResponse', formatDuration(totals.firstResponseSeconds)],
            ['analytics.resolution', formatDuration(totals.resolutionSeconds)],
            ['analytics.fcr', percent(totals.fcrRate)],
            ['analytics.csat', totals.csatAverage === null || totals.csatAverage === undefined ? '—' : totals.csatAverage.toFixed(2)],
            ['analytics.containment', percent(totals.containmentRate)],
            ['analytics.transfer', percent(totals.transferRate)],
            ['analytics.sla', percent(totals.slaAttainment)],
          ] as Array<[MessageKey, string]>
        ).map(([key, value]) => (
          <Col xs={12} md={6} xl={3} key={key}>
            <Card size="small">
              <Statistic title={t(key)} value={value} />
            </Card>
          </Col>
        ))}
      </Row>
      <Row gutter={[12, 12]}>
        {chart('analytics.volume', {
          series: [
            { name: t('analytics.created'), type: 'bar', data: series('conversationsCreated') },
            { name: t('analytics.resolved'), type: 'bar', data: series('conversationsResolved') },
            { name: t('analytics.ticketsSolved'), type: 'bar', data: series('ticketsSolved') },
          ],
        })}
        {chart('analytics.responseTimes', {
          unit: t('analytics.minutes'),
          series: [
            { name: t('analytics.firstResponse'), type: groupBy === 'day' ? 'line' : 'bar', data: series('firstResponseSeconds', 1 / 60) },
            { name: t('analytics.resolution'), type: groupBy === 'day' ? 'line' : 'bar', data: series('resolutionSeconds', 1 / 60) },
          ],
        })}
        {chart('analytics.fcr', { unit: '%', series: [{ name: t('analytics.fcr'), type: groupBy === 'day' ? 'line' : 'bar', data: series('fcrRate', 100) }] })}
        {chart('analytics.csat', {
          series: [
            { name: t('analytics.csatAverage'), type: groupBy === 'day' ? 'line' : 'bar', data: series('csatAverage') },
            { name: t('analytics.csatResponse'), type: 'line', data: series('csatResponseRate', 5) },
          ],
        })}
        {chart('analytics.containmentTransfer', {
          unit: '%',
          series: [
            { name: t('analytics.containment'), type: 'bar', data: series('containmentRate', 100) },
            { name: t('analytics.transfer'), type: 'bar', data: series('transferRate', 100) },
          ],
        })}
        {chart('analytics.sla', {
          unit: '%',
          series: [{ name: t('analytics.sla'), type: groupBy === 'day' ? 'line' : 'bar', data: series('slaAttainment', 100) }],
        })}
      </Row>
      <Card size="small" title={t('analytics.table')}>
        <Table<ReportRow>
          size="small"
          rowKey={(row) => rowLabel(row, groupBy)}
          pagination={false}
          dataSource={rows}
          scroll={{ x: true }}
          columns={[
            { title: t(`analytics.by.${groupBy}` as MessageKey), key: 'k', render: (_: unknown, row) => rowLabel(row, groupBy) },
            { title: t('analytics.created'), key: 'c', render: (_: unknown, row) => row.metrics.conversationsCreated },
            { title: t('analytics.resolved'), key: 'r', render: (_: unknown, row) => row.metrics.conversationsResolved },
            { title: t('analytics.firstResponse'), key: 'f', render: (_: unknown, row) => formatDuration(row.metrics.firstResponseSeconds) },
            { title: t('analytics.resolution'), key: 'res', render: (_: unknown, row) => formatDuration(row.metrics.resolutionSeconds) },
            { title: t('analytics.fcr'), key: 'fcr', render: (_: unknown, row) => percent(row.metrics.fcrRate) },
            { title: t('analytics.csat'), key: 'csat', render: (_: unknown, row) => row.metrics.csatAverage?.toFixed(2) ?? '—' },
            { title: t('analytics.sla'), key: 'sla', render: (_: unknown, row) => percent(row.metrics.slaAttainment) },
          ]}
        />
      </Card>
    </Space>
  );
}
