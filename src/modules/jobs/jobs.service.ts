// Reading and cancelling jobs: a user sees only the jobs enqueued for them; admins and services all.
import { ownScope, type Principal } from '../../platform/access.ts';
import { AppError } from '../../platform/errors.ts';
import type { JobSystem, JobView } from '../../platform/jobs/jobs.ts';
import type { ListJobsQuery } from './jobs.schemas.ts';

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

export function createJobsService(deps: { jobs: Pick<JobSystem, 'get' | 'list' | 'cancel'> }) {
  const { jobs } = deps;

  const find = async (id: string, principal: Principal): Promise<JobView> => {
    const job = await jobs.get(id);
    const scope = ownScope(principal);
    // Someone else's job is answered like a missing one: its existence is not the caller's business.
    if (!job || (scope !== null && job.owner_user_id !== scope)) throw new AppError('NOT_FOUND', `job ${id} not found`);
    return job;
  };

  return {
    list: (q: ListJobsQuery, principal: Principal) => jobs.list({ ...q, owner: ownScope(principal) }),
    get: find,
    async cancel(id: string, principal: Principal): Promise<JobView> {
      const job = await find(id, principal);
      if (FINISHED.has(job.state)) throw new AppError('CONFLICT', `job ${id} is already ${job.state}`);
      await jobs.cancel(id, job.queue);
      return find(id, principal);
    },
  };
}

export type JobsService = ReturnType<typeof createJobsService>;
