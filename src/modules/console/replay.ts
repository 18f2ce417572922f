// Pure: what a draft alert rule would have raised over stored events, replayed in arrival order with
// the events module's reference evaluator (the same semantics as events_ingest).
import { parseCents } from '../../platform/money.ts';
import { evaluateRules, type EvaluableRule, type EventType, type HistoryEvent, type RuleDefinition } from '../events/rules.ts';

export interface StoredEvent {
  seq: number;
  /** The external user id (users.user_id), as GET /api/alerts shows it. */
  user_id: string;
  type: string;
  amount: string;
  time: number;
}

export interface ReplayResult {
  events_scanned: number;
  alerts: number;
  users_alerted: number;
  /** The first alerts the rule would have raised (at most `examples`). */
  examples: { event_seq: number; user_id: number | string; type: string; amount: string; time: number }[];
}

/** `events` in arrival order (ascending seq). Each user's history is their earlier events in the window given. */
export function replayRule(rule: RuleDefinition, events: readonly StoredEvent[], examples = 20): ReplayResult {
  const evaluable: EvaluableRule[] = [{ ...rule, enabled: true, id: 0 }];
  const histories = new Map<string, HistoryEvent[]>();
  const users = new Set<string>();
  const out: ReplayResult = { events_scanned: events.length, alerts: 0, users_alerted: 0, examples: [] };
  for (const e of events) {
    const cents = parseCents(e.amount);
    if (cents === null) continue;
    let history = histories.get(e.user_id);
    if (!history) histories.set(e.user_id, (history = []));
    const ev: HistoryEvent = { seq: e.seq, type: e.type as EventType, cents, time: e.time };
    if (evaluateRules(history, ev, evaluable).length) {
      out.alerts++;
      users.add(e.user_id);
      if (out.examples.length < examples) out.examples.push({ event_seq: e.seq, user_id: /^\d{1,15}$/.test(e.user_id) ? Number(e.user_id) : e.user_id, type: e.type, amount: e.amount, time: e.time });
    }
    history.push(ev);
  }
  out.users_alerted = users.size;
  return out;
}
