import { html } from '../lib.js';
export function RecommendationsPage() {
  return html`<h1>Recommendations</h1><p class="note">Coming next.</p>`;
}
