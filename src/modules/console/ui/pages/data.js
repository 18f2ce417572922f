import { html } from '../lib.js';
export function DataPage() {
  return html`<h1>Data</h1><p class="note">Coming next.</p>`;
}
