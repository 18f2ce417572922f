import { html } from '../lib.js';
export function ModelsPage() {
  return html`<h1>Models</h1><p class="note">Coming next.</p>`;
}
