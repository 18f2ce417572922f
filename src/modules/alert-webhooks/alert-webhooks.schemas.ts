import { Type, type Static } from 'typebox';

export const CreateAlertWebhookSchema = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'where alerts are POSTed; its host must be in WEBHOOK_ALLOWED_HOSTS' }),
    codes: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 2_147_483_647 }), { minItems: 1, maxItems: 100, description: 'alert codes to deliver; omitted = every code' })),
  },
  { additionalProperties: false, title: 'CreateAlertWebhook' },
);
export type CreateAlertWebhook = Static<typeof CreateAlertWebhookSchema>;

export const AlertWebhookSchema = Type.Object(
  {
    id: Type.Integer(),
    url: Type.String(),
    codes: Type.Union([Type.Array(Type.Integer()), Type.Null()]),
    created_at: Type.String({ format: 'date-time' }),
  },
  { title: 'AlertWebhook' },
);

export const CreatedAlertWebhookSchema = Type.Object(
  { ...AlertWebhookSchema.properties, secret: Type.String({ description: 'the signing secret: shown once, keep it to verify X-Arbiter-Signature' }) },
  { title: 'CreatedAlertWebhook' },
);

export const DeliverySchema = Type.Object(
  {
    id: Type.Integer(),
    job_id: Type.String(),
    url: Type.String(),
    event: Type.String(),
    idempotency_key: Type.String(),
    attempt: Type.Integer(),
    ok: Type.Boolean(),
    status: Type.Union([Type.Integer(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
    duration_ms: Type.Integer(),
    created_at: Type.String({ format: 'date-time' }),
  },
  { title: 'WebhookDelivery' },
);

export const IdParamsSchema = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
export const PageQuerySchema = Type.Object(
  { page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }), size: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) },
  { additionalProperties: false },
);
export type PageQuery = Static<typeof PageQuerySchema>;
