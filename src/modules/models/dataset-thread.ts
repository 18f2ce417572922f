// Parsing and checking a large dataset upload on a worker thread (a 10 MB CSV takes most of a second).
// AppErrors do not cross a thread as themselves: they come back as data and are thrown again.
import { AppError } from '../../platform/errors.ts';
import { parseDatasetInput, type DatasetInput } from './models.domain.ts';

export default function parse(data: DatasetInput) {
  try {
    return { ok: parseDatasetInput(data) };
  } catch (err) {
    if (err instanceof AppError) return { error: { code: err.code, message: err.message } };
    throw err;
  }
}
