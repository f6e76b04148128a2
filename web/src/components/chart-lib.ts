// The part of Chart.js the console uses (loaded on demand by chart.tsx; static imports here let
// esbuild drop the rest of the library).
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export { Chart };
