import { Type, type Static } from 'typebox';

const STATES = ['created', 'retry', 'active', 'completed', 'cancelled', 'failed'] as const;

export const JobSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    queue: Type.String(),
    state: Type.Enum([...STATES], { description: 'created (waiting), retry (waiting to run again), active, completed, cancelled or failed' }),
    owner_user_id: Type.Union([Type.String(), Type.Null()], { description: 'the user the job was enqueued for; null for system jobs' }),
    data: Type.Unknown({ description: 'the job input' }),
    progress: Type.Union([Type.Integer(), Type.Null()], { description: 'percent done, as last reported by the handler' }),
    progress_note: Type.Union([Type.String(), Type.Null()]),
    result: Type.Unknown({ description: 'what the handler returned (completed jobs)' }),
    error: Type.Union([Type.String(), Type.Null()], { description: 'why the last attempt failed (failed and retry states)' }),
    attempts: Type.Integer({ description: 'attempts started so far' }),
    retry_limit: Type.Integer(),
    created_at: Type.String({ format: 'date-time' }),
    start_after: Type.String({ format: 'date-time' }),
    started_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    completed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { title: 'Job' },
);

export const ListJobsQuerySchema = Type.Object(
  {
    queue: Type.Optional(Type.String({ maxLength: 100, pattern: '^[\\w.-]+$' })),
    state: Type.Optional(Type.Enum([...STATES])),
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    size: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  },
  { additionalProperties: false },
);
export type ListJobsQuery = Static<typeof ListJobsQuerySchema>;

export const JobIdParamsSchema = Type.Object({ id: Type.String({ format: 'uuid', description: 'the job id' }) });
