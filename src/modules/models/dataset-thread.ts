// Parsing and checking a large dataset upload on a worker thread (dataset-upload.ts).
// AppErrors do not cross a thread as themselves: they come back as data and are thrown again.
import { AppError } from '../../platform/errors.ts';
import { parseUpload, type DatasetUpload } from './dataset-upload.ts';

export default function parse(upload: DatasetUpload) {
  try {
    return { ok: parseUpload(upload) };
  } catch (err) {
    if (err instanceof AppError) return { error: { code: err.code, message: err.message } };
    throw err;
  }
}
