import { html } from '../lib.js';
export function DecisionsPage() {
  return html`<h1>Decisions</h1><p class="note">Coming next.</p>`;
}
