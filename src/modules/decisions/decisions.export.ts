// The export's line formats: JSON lines, or CSV (RFC 4180 quoting; JSON-valued columns as JSON text).

export const EXPORT_COLUMNS = [
  'decision_id', 'problem_id', 'user_id', 'decision_idx', 'policy_version_id', 'client_timestamp', 'created_at', 'action', 'action_index',
  'probability', 'probabilities', 'decided_by', 'reason', 'rng_state', 'context', 'encoded', 'shadow', 'outcome', 'reward', 'reward_in_window', 'outcome_timestamp',
] as const;

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  // Quote what needs it, and defuse cells a spreadsheet would run as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) && typeof v === 'string' ? `'${s}` : s;
  return /[",\r\n]/.test(safe) || safe !== s ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export async function* exportLines(rows: AsyncIterable<Record<string, unknown>>, format: 'csv' | 'jsonl'): AsyncGenerator<string> {
  if (format === 'csv') yield `${EXPORT_COLUMNS.join(',')}\r\n`;
  for await (const row of rows) {
    if (format === 'csv') yield `${EXPORT_COLUMNS.map((c) => cell(row[c])).join(',')}\r\n`;
    else yield `${JSON.stringify(Object.fromEntries(EXPORT_COLUMNS.map((c) => [c, row[c] instanceof Date ? (row[c] as Date).toISOString() : (row[c] ?? null)])))}\n`;
  }
}
