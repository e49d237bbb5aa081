import ReactECharts from 'echarts-for-react';
import type { EChartsOption } from 'echarts';

/** An ECharts chart with an accessible name; canvas renderer (no inline scripts, CSP-safe). */
export function Chart({ option, height = 260, label, testId }: { option: EChartsOption; height?: number; label: string; testId?: string }) {
  return (
    <div role="img" aria-label={label} data-testid={testId}>
      <ReactECharts option={option} style={{ height }} notMerge lazyUpdate opts={{ renderer: 'canvas' }} />
    </div>
  );
}
