// Request and response schemas of seed 000's routes. The JSON types are checked here; user_id and
// timestamp are checked by the service, so a missing user_id gets the original's "user_id is required."
import { Type, type Static } from 'typebox';
import { PageProps } from '../../platform/pagination.ts';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const UserId = Type.Unsafe<string | number>({ type: ['string', 'integer'], maxLength: 200, description: 'the user (external user_id); required', examples: ['unique_user_id'] });
const Timestamp = (d: string) => Type.String({ maxLength: 64, description: `${d} (ISO 8601, e.g. 2024-05-01T12:00:00Z); required` });
const DecisionIdx = Type.Integer({ minimum: 0, maximum: MAX_SAFE, description: "the decision point's index for this user: a repeated (user_id, decision_idx) returns the stored decision" });
const ProblemName = Type.String({ minLength: 1, maxLength: 100, description: "the decision problem's name (default: 'default')" });
const Context = Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), { maxProperties: 1000, description: 'the context: any JSON object (a problem with a context schema checks its keys)' });

export const AddUserSchema = Type.Object({ user_id: Type.Optional(UserId) }, { additionalProperties: false, title: 'AddUser' });
export type AddUserBody = Static<typeof AddUserSchema>;

export const AddUserAnswerSchema = Type.Object({ user_id: Type.String(), message: Type.String() }, { title: 'AddUserAnswer' });

export const ActionSchema = Type.Object(
  {
    user_id: Type.Optional(UserId),
    timestamp: Type.Optional(Timestamp("the client's time of the decision point")),
    decision_idx: Type.Optional(DecisionIdx),
    context: Type.Optional(Context),
    problem: Type.Optional(ProblemName),
  },
  { additionalProperties: false, title: 'ActionRequest' },
);
export type ActionBody = Static<typeof ActionSchema>;

const ActionAnswerProps = {
    status: Type.Literal('success'),
    user_id: Type.String(),
    action: Type.Object({ action_type: Type.String({ description: 'the chosen action' }), context: Type.Unknown({ description: 'the context as sent' }) }, { description: "the README's form" }),
    action_prob: Type.Number({ description: 'the probability with which the chosen action was drawn (within the clip bounds unless a spent budget decided)' }),
    state: Type.Unknown({ description: 'the context, to be posted back in upload_data' }),
    decision_idx: Type.Union([Type.Integer(), Type.Null()]),
    decision_id: Type.Integer(),
    policy_version: Type.Integer(),
    problem: Type.String(),
    probabilities: Type.Record(Type.String(), Type.Number(), { description: 'the probability of every action' }),
    decided_by: Type.Union([Type.Literal('policy'), Type.Literal('fallback'), Type.Literal('budget')]),
    timestamp: Type.String({ format: 'date-time', description: "the server's time of the decision" }),
};
export const ActionAnswerSchema = Type.Object(ActionAnswerProps, { title: 'ActionAnswer' });

export const DecisionDetailSchema = Type.Object(
  {
      ...ActionAnswerProps,
      encoded: Type.Array(Type.Number(), { description: 'the vector the policy saw ([1, features…])' }),
      rng_state: Type.Array(Type.Integer(), { description: 'the generator state (4 uint32 words) before the draw' }),
      method: Type.String(),
      reason: Type.Union([Type.String(), Type.Null()]),
      shadow: Type.Unknown({ description: "the shadow policy's choice, when the problem has one" }),
      client_timestamp: Type.String({ format: 'date-time' }),
  },
  { title: 'Decision' },
);

export const UploadSchema = Type.Object(
  {
    user_id: Type.Optional(UserId),
    timestamp: Type.Optional(Timestamp("the client's time of the outcome")),
    decision_idx: Type.Optional(DecisionIdx),
    decision_id: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SAFE, description: 'the decision this outcome is for (or give decision_idx)' })),
    problem: Type.Optional(ProblemName),
    data: Type.Optional(
      Type.Object(
        {
          context: Type.Optional(Type.Unknown()),
          action: Type.Optional(Type.Unknown({ description: 'as the action answer gave it (checked against the decision)' })),
          action_prob: Type.Optional(Type.Unknown({ description: 'as the action answer gave it (checked against the decision)' })),
          state: Type.Optional(Type.Unknown()),
          outcome: Type.Optional(Type.Unknown({ description: "an object; the problem's reward key (default 'clicks') is the reward" })),
        },
        { additionalProperties: true, maxProperties: 100, description: "the working system's form: the action's values posted back with the outcome" },
      ),
    ),
    context: Type.Optional(Context),
    outcome: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), { maxProperties: 1000 })),
  },
  { additionalProperties: false, title: 'UploadData' },
);
export type UploadBody = Static<typeof UploadSchema> & { data?: Record<string, unknown> };

export const UploadAnswerSchema = Type.Object(
  {
    message: Type.String(),
    decision_id: Type.Union([Type.Integer(), Type.Null()]),
    reward: Type.Union([Type.Number(), Type.Null()]),
    learned: Type.Boolean({ description: 'the next update learns from it (joined to a decision, inside the reward window, with a numeric reward)' }),
  },
  { title: 'UploadAnswer' },
);

export const UpdateSchema = Type.Object(
  {
    timestamp: Type.Optional(Timestamp('learn from decisions up to this time')),
    callback_url: Type.Optional(Type.String({ maxLength: 2048, description: 'answer 202 at once and POST {status, update_id, timestamp, policy_version} here when done' })),
    problem: Type.Optional(ProblemName),
  },
  { additionalProperties: false, title: 'UpdateRequest' },
);
export type UpdateBody = Static<typeof UpdateSchema>;

export const UpdateAnswerSchema = Type.Object(
  {
    message: Type.Optional(Type.String()),
    status: Type.String({ description: 'completed, or processing (with callback_url)' }),
    update_id: Type.String({ format: 'uuid' }),
    timestamp: Type.Optional(Type.String()),
    policy_version: Type.Optional(Type.Integer()),
    callback_secret: Type.Optional(Type.String({ description: "with callback_url: the secret the callback's X-Arbiter-Signature is made with (shown once)" })),
  },
  { title: 'UpdateAnswer' },
);

export const UpdateViewSchema = Type.Object(
  {
    update_id: Type.String(),
    status: Type.String(),
    timestamp: Type.String(),
    policy_version: Type.Union([Type.Integer(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { title: 'Update' },
);

export const UpdateIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const DecisionIdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: MAX_SAFE }) });
export const ProblemRefParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100, description: "a problem's id or name" }) });

const ConfigIn = Type.Record(Type.String(), Type.Unknown(), {
  description: 'actions, context, reward, policy, clip, default_action, budget_per_day, fallback, shadow, update_cron, seed (see docs/decisions.md)',
});

export const CreateProblemSchema = Type.Object(
  { name: Type.String({ pattern: '^[A-Za-z][\\w.-]{0,99}$', description: 'unique; letters, digits, _ . -, starting with a letter' }), config: ConfigIn },
  { additionalProperties: false, title: 'CreateProblem' },
);
export type CreateProblemBody = Static<typeof CreateProblemSchema>;
export const ReplaceConfigSchema = Type.Object({ config: ConfigIn }, { additionalProperties: false, title: 'ReplaceProblemConfig' });

export const ProblemSchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    config: Type.Unknown({ description: 'the configuration with every default filled in' }),
    live_version: Type.Union([Type.Integer(), Type.Null()]),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { title: 'Problem' },
);

export const VersionSchema = Type.Object(
  {
    version: Type.Integer(),
    live: Type.Boolean(),
    data_until: Type.Union([Type.String(), Type.Null()]),
    n_observations: Type.Integer(),
    n_default_rewards: Type.Integer(),
    policy: Type.Unknown(),
    features: Type.Array(Type.String()),
    created_at: Type.String(),
  },
  { title: 'PolicyVersion' },
);

export const RollbackSchema = Type.Object({ version: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) }, { additionalProperties: false, title: 'Rollback' });

const PolicyIn = Type.Object(
  {
    kind: Type.String({ description: 'thompson, linucb, epsilon_greedy or fixed' }),
    lambda: Type.Optional(Type.Number()),
    alpha: Type.Optional(Type.Number()),
    epsilon: Type.Optional(Type.Number()),
    probabilities: Type.Optional(Type.Array(Type.Number(), { maxItems: 64 })),
    mc_samples: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

export const EvaluateSchema = Type.Object(
  {
    candidates: Type.Optional(Type.Array(PolicyIn, { maxItems: 20, description: 'policy configurations to score' })),
    from: Type.Optional(Type.String({ maxLength: 64, description: 'decisions from this client time (ISO 8601)' })),
    to: Type.Optional(Type.String({ maxLength: 64, description: 'decisions up to this client time (ISO 8601)' })),
    level: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'confidence level of the intervals (default 0.95)' })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4_294_967_295 })),
  },
  { additionalProperties: false, title: 'EvaluateRequest' },
);

export const EvaluateAnswerSchema = Type.Object(
  { job_id: Type.String(), status: Type.String(), status_url: Type.String({ description: 'GET it for the estimates (the job result)' }) },
  { title: 'EvaluateAnswer' },
);

export const ReplaySchema = Type.Object(
  {
    decision_id: Type.Integer(),
    policy_version: Type.Integer(),
    decided_by: Type.String(),
    logged: Type.Object({ action: Type.String(), action_prob: Type.Number(), probabilities: Type.Array(Type.Number()) }),
    replayed: Type.Object({ action: Type.String(), action_prob: Type.Number(), probabilities: Type.Array(Type.Number()) }),
    matches: Type.Boolean({ description: 'the replay gave the same action and the same probabilities, bit for bit' }),
  },
  { title: 'Replay' },
);

export const ExportQuerySchema = Type.Object(
  {
    problem: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "a problem's id or name (default: every problem)" })),
    from: Type.Optional(Type.String({ maxLength: 64, description: 'decisions from this client time (ISO 8601)' })),
    to: Type.Optional(Type.String({ maxLength: 64, description: 'decisions up to this client time (ISO 8601)' })),
    format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('jsonl')], { default: 'jsonl' })),
  },
  { additionalProperties: false },
);

export const PageQuerySchema = Type.Object({ ...PageProps }, { additionalProperties: false });
