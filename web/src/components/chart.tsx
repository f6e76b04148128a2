// Bar charts with Chart.js. Only the staff dashboard draws charts, so Chart.js (two thirds of the
// console's code) is a separate chunk loaded on first use, tree-shaken to the bar controller, two
// scales, legend and tooltip. A canvas says nothing to a screen reader: every chart carries a
// summary as its accessible name and sits next to a table with the same figures.
import type { ChartConfiguration } from 'chart.js';
import { useRef } from 'hono/jsx/dom';
import { usePageEffect } from '../lib/hooks';

let chartJs: Promise<typeof import('./chart-lib')> | null = null;
const loadChartJs = () => (chartJs ??= import('./chart-lib'));

export function BarChart({ summary, config }: { summary: string; config: ChartConfiguration<'bar'> }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  usePageEffect(() => {
    let chart: { destroy(): void } | undefined;
    let gone = false;
    void loadChartJs().then(({ Chart }) => {
      if (gone || !canvas.current) return;
      // One chart per canvas: an effect can run again before the previous run's cleanup (a refetch
      // while Chart.js was still loading), and Chart.js refuses a canvas that still has a chart.
      Chart.getChart(canvas.current)?.destroy();
      chart = new Chart(canvas.current, config);
    });
    return () => {
      gone = true;
      chart?.destroy();
    };
  }, [config]);
  return (
    <div class="chart">
      <canvas ref={canvas} role="img" aria-label={summary} />
    </div>
  );
}

const reduceMotion = () => matchMedia('(prefers-reduced-motion: reduce)').matches;

/** Options shared by the console's charts: responsive, no animation when the user asks for less motion. */
export function baseOptions(horizontal = false): NonNullable<ChartConfiguration<'bar'>['options']> {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: reduceMotion() ? false : { duration: 300 },
    indexAxis: horizontal ? 'y' : 'x',
    plugins: { legend: { position: 'bottom' } },
  };
}
