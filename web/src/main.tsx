// Entry point of the web console (built by scripts/build-web.mjs into dist/web/app.js).
import { render } from 'hono/jsx/dom';
import { App } from './app';

const root = document.getElementById('root');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
