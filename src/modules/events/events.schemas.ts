// Request and response schemas of seed 001's routes. Bodies are checked for JSON types here; the
// formats (amount, user_id) and the rules' parameters are checked by the service and rules.ts, so
// their messages can say exactly what is wrong.
import { Type, type Static } from 'typebox';
import { PageProps } from '../../platform/pagination.ts';
import { INTEGER_STRING } from '../../platform/validation.ts';
import { COMPARISONS, EVENT_TYPES, RULE_KINDS } from './rules.ts';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export const EventTypeSchema = Type.Enum([...EVENT_TYPES], { description: "'deposit' or 'withdraw'" });

export const CreateEventSchema = Type.Object(
  {
    type: EventTypeSchema,
    amount: Type.Unsafe<string | number>({
      type: ['string', 'number'],
      description: 'positive decimal with at most 2 decimals, as a string ("42.00", "100"); a JSON number is accepted when it prints as such',
      examples: ['42.00'],
    }),
    user_id: Type.Unsafe<number | string>({
      type: ['integer', 'string'],
      description: 'the user: a positive integer (or its decimal string); it is echoed back as sent',
      examples: [1],
    }),
    // Seed 001's Flask original read time with int(): "60" is accepted and becomes 60.
    time: Type.Unsafe<number>({
      type: ['integer', 'string'],
      minimum: 0,
      maximum: MAX_SAFE,
      [INTEGER_STRING]: true,
      description: 'event time in seconds (client-supplied, as the seed specifies): an integer, or its decimal string ("60")',
    }),
  },
  { additionalProperties: false, title: 'CreateEvent' },
);
export type CreateEvent = Static<typeof CreateEventSchema>;

export const EventAnswerSchema = Type.Object(
  {
    alert: Type.Boolean({ description: 'true when at least one rule fired' }),
    alert_codes: Type.Array(Type.Integer(), { description: 'codes of the rules that fired, in rule priority order' }),
    user_id: Type.Unsafe<number | string>({ type: ['integer', 'string'], description: 'the user_id as sent' }),
  },
  { title: 'EventAnswer' },
);

const UserIdQuery = Type.Integer({ minimum: 1, maximum: MAX_SAFE, description: 'the user (seed 001 integer user id)' });
const TimeBound = (d: string) => Type.Integer({ minimum: 0, maximum: MAX_SAFE, description: d });

export const ListEventsQuerySchema = Type.Object(
  {
    user_id: Type.Optional(UserIdQuery),
    type: Type.Optional(EventTypeSchema),
    from: Type.Optional(TimeBound('events with time >= from')),
    to: Type.Optional(TimeBound('events with time <= to')),
    ...PageProps,
  },
  { additionalProperties: false },
);
export type ListEventsQuery = Static<typeof ListEventsQuerySchema>;

export const StoredEventSchema = Type.Object(
  {
    id: Type.Integer({ description: 'arrival sequence number; breaks ties in time' }),
    user_id: Type.Integer(),
    type: EventTypeSchema,
    amount: Type.String({ description: 'decimal string with 2 decimals' }),
    time: Type.Integer(),
    created_at: Type.String({ format: 'date-time' }),
    alert_codes: Type.Array(Type.Integer(), { description: 'codes of the alerts this event raised' }),
  },
  { title: 'StoredEvent' },
);
export type StoredEvent = Static<typeof StoredEventSchema>;

export const ListAlertsQuerySchema = Type.Object(
  {
    user_id: Type.Optional(UserIdQuery),
    code: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'alerts of this rule code' })),
    from: Type.Optional(TimeBound("alerts whose event has time >= from")),
    to: Type.Optional(TimeBound("alerts whose event has time <= to")),
    ...PageProps,
  },
  { additionalProperties: false },
);
export type ListAlertsQuery = Static<typeof ListAlertsQuerySchema>;

export const AlertSchema = Type.Object(
  {
    id: Type.Integer(),
    code: Type.Integer(),
    rule_id: Type.Integer({ description: 'the rule that raised it' }),
    rule_version: Type.Integer({ description: 'the version of that rule at the time' }),
    user_id: Type.Integer(),
    created_at: Type.String({ format: 'date-time' }),
    event: Type.Object({
      id: Type.Integer(),
      type: EventTypeSchema,
      amount: Type.String(),
      time: Type.Integer(),
    }),
  },
  { title: 'Alert' },
);
export type Alert = Static<typeof AlertSchema>;

export const StreamQuerySchema = Type.Object(
  {
    user_id: Type.Optional(UserIdQuery),
    code: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'only alerts of this code' })),
  },
  { additionalProperties: false },
);
export type StreamQuery = Static<typeof StreamQuerySchema>;

// ---- rules ------------------------------------------------------------------------------------

const ruleFields = {
  code: Type.Integer({ description: 'the alert code the rule raises (unique)' }),
  name: Type.String({ maxLength: 200 }),
  kind: Type.String({ description: `one of ${RULE_KINDS.join(', ')}` }),
  event_type: Type.String({ description: 'the event type that triggers the rule and that it counts' }),
  enabled: Type.Boolean(),
  priority: Type.Integer({ description: 'evaluation and answer order among the rules of one event type, lower first' }),
  params: Type.Unknown({
    description:
      `threshold {op, amount}; consecutive {count, ignore_other_types, strictly_increasing}; ` +
      `window_sum {window_seconds, op, amount}; window_count {window_seconds, op, count}; op is one of ${COMPARISONS.join(' ')}`,
  }),
};

export const CreateRuleSchema = Type.Object(
  {
    code: ruleFields.code,
    name: Type.Optional(ruleFields.name),
    kind: ruleFields.kind,
    event_type: ruleFields.event_type,
    enabled: Type.Optional(ruleFields.enabled),
    priority: Type.Optional(ruleFields.priority),
    params: Type.Optional(ruleFields.params),
  },
  { additionalProperties: false, title: 'CreateRule' },
);
export type CreateRule = Static<typeof CreateRuleSchema>;

export const PatchRuleSchema = Type.Object(
  {
    code: Type.Optional(ruleFields.code),
    name: Type.Optional(ruleFields.name),
    kind: Type.Optional(ruleFields.kind),
    event_type: Type.Optional(ruleFields.event_type),
    enabled: Type.Optional(ruleFields.enabled),
    priority: Type.Optional(ruleFields.priority),
    params: Type.Optional(ruleFields.params),
  },
  { additionalProperties: false, minProperties: 1, title: 'PatchRule' },
);
export type PatchRule = Static<typeof PatchRuleSchema>;

export const RuleSchema = Type.Object(
  {
    id: Type.Integer(),
    code: Type.Integer(),
    name: Type.String(),
    kind: Type.String(),
    event_type: Type.String(),
    enabled: Type.Boolean(),
    priority: Type.Integer(),
    params: Type.Unknown(),
    version: Type.Integer({ description: 'incremented on every change; alerts record the version that raised them' }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { title: 'AlertRule' },
);
export type Rule = Static<typeof RuleSchema>;

export const RuleIdParamsSchema = Type.Object({ id: Type.Integer({ minimum: 1, description: 'rule id' }) }, { additionalProperties: false });

export const ListRulesQuerySchema = Type.Object(
  {
    code: Type.Optional(Type.Integer({ description: 'the rule with this code' })),
    event_type: Type.Optional(EventTypeSchema),
    kind: Type.Optional(Type.Enum([...RULE_KINDS])),
    enabled: Type.Optional(Type.Boolean()),
    ...PageProps,
    // Rules are few: the whole list in one page by default.
    size: Type.Integer({ ...PageProps.size, default: 100 }),
  },
  { additionalProperties: false },
);
export type ListRulesQuery = Static<typeof ListRulesQuerySchema>;
