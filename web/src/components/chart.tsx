// Bar charts with Chart.js (tree-shaken: only the bar controller, two scales, legend and tooltip are
// bundled). A canvas says nothing to a screen reader, so every chart carries a summary as its
// accessible name and sits next to a table with the same figures.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip, type ChartConfiguration } from 'chart.js';
import { useEffect, useRef } from 'hono/jsx/dom';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export function BarChart({ summary, config }: { summary: string; config: ChartConfiguration<'bar'> }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, config);
    return () => chart.destroy();
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
