// A dataset upload from its raw bytes to a checked training table: strict UTF-8 decoding, the JSON
// body's checks (platform/json-body.ts) and schema, then the domain's parse. The route keeps the body
// as bytes, so a large upload is decoded, parsed and checked on a worker thread (dataset-thread.ts)
// and comes back as typed arrays: a 7 MB JSON upload held the event loop for over a second when the
// app's JSON parser, the schema and the copies of number[][] between threads all ran on it. The arrays
// are copied onto SharedArrayBuffers, so the service can keep them and hand them to training threads
// without a copy; for a large upload that copy is made on the parsing thread, not the event loop.
import { shared } from '../../ml/forest-train.ts';
import { AppError } from '../../platform/errors.ts';
import { parseJsonBody } from '../../platform/json-body.ts';
import { bodyChecker } from '../../platform/validation.ts';
import { DEFAULT_CV, parseDatasetInput, type ParsedDataset } from './models.domain.ts';
import { CreateDatasetJsonSchema, type CreateDatasetJson } from './models.schemas.ts';

export interface DatasetUpload {
  format: 'csv' | 'json';
  /** The body's bytes in the chunks they arrived in (platform/body-chunks.ts): joined where parsed. */
  chunks: Uint8Array[];
  /** CSV uploads: ?name=&label=&cv= (JSON uploads carry them in the body). */
  query: { name?: string; label?: string; cv?: number };
}

export interface ParsedUpload extends ParsedDataset {
  name: string;
  hash: string;
}

/** Bodies up to this size are parsed inline (well under a millisecond's work). */
export const INLINE_UPLOAD_BYTES = 32 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });
let checkJson: ((data: unknown) => void) | undefined;

export function parseUpload(u: DatasetUpload): ParsedUpload {
  const bytes = u.chunks.length === 1 ? u.chunks[0] : Buffer.concat(u.chunks);
  if (u.format === 'csv') {
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new AppError('BAD_REQUEST', 'the CSV is not valid UTF-8: save it as UTF-8 and upload it again');
    }
    const parsed = parseDatasetInput({ kind: 'csv', text, label: u.query.label, minClassRows: u.query.cv ?? DEFAULT_CV });
    return { ...parsed, x: shared(parsed.x), y: shared(parsed.y), name: u.query.name ?? 'uploaded CSV' };
  }
  const body = parseJsonBody(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (body === undefined) throw new AppError('VALIDATION_ERROR', 'body: a JSON object with "name" and "rows" is required');
  (checkJson ??= bodyChecker(CreateDatasetJsonSchema))(body);
  const b = body as CreateDatasetJson;
  const parsed = parseDatasetInput({ kind: 'json', columns: b.columns ?? null, rows: b.rows, label: b.label, minClassRows: b.cv ?? DEFAULT_CV });
  return { ...parsed, x: shared(parsed.x), y: shared(parsed.y), name: b.name };
}
