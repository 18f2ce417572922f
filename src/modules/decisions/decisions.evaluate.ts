// Off-policy evaluation of candidate policy configurations on a problem's logged decisions (pure):
// the logs are split in time, each candidate is fitted on the earlier half and scored on the later
// half with IPS, SNIPS and doubly robust (cross-fitted reward model) estimates and their intervals,
// beside the live version and uniform random. Budget decisions are left out (no randomization).
import { matrix } from '../../ml/matrix.ts';
import { crossFitRewardPredictions, evaluatePolicy, type BanditLogs, type OpeEstimate } from '../../ml/ope.ts';
import { Rng } from '../../ml/rng.ts';
import { buildEncoder, encode, loadPolicy, probabilitiesOf, trainingSet, trainPolicy, type Encoder, type LoadedPolicy, type LoggedRow, type PolicyConfig, type ProblemConfig } from './decisions.domain.ts';

export interface EvaluateRequest {
  candidates?: PolicyConfig[];
  from?: string;
  to?: string;
  level?: number;
  seed?: number;
}

/** The fewest rewarded, randomized decisions an evaluation runs on. */
export const MIN_EVALUATION_ROWS = 20;

const round = (e: OpeEstimate) => ({ value: e.value, se: e.se, ci: e.ci, ess: e.ess, n: e.n });

export function evaluateCandidates(args: {
  config: ProblemConfig;
  live: { encoder: Encoder; policy: LoadedPolicy; version: number };
  rows: LoggedRow[];
  candidates: PolicyConfig[];
  level: number;
  seed: number;
  until: Date;
}) {
  const { config } = args;
  const k = config.actions.length;
  const encoder = buildEncoder(config.context, args.rows.map((r) => r.context));
  const all = trainingSet(args.rows, config, encoder, args.until, { excludeBudget: true });
  const n = all.contexts.rows;
  if (n < MIN_EVALUATION_ROWS) throw new RangeError(`evaluation needs at least ${MIN_EVALUATION_ROWS} randomized decisions with a reward, found ${n}`);
  const d = all.contexts.cols;
  const split = Math.floor(n / 2);
  const slice = (from: number, to: number) => ({
    contexts: matrix(to - from, d, all.contexts.data.slice(from * d, to * d)),
    actions: all.actions.slice(from, to),
    rewards: all.rewards.slice(from, to),
    propensities: all.propensities.slice(from, to),
    nDefault: 0,
    rows: all.rows.slice(from, to),
  });
  const train = slice(0, split);
  const test = slice(split, n);
  const logs: BanditLogs = { contexts: test.contexts, actions: test.actions, rewards: test.rewards, propensities: test.propensities };
  const rng = new Rng(args.seed);
  const q = crossFitRewardPredictions(logs, k, rng, { folds: 2 });
  const m = test.contexts.rows;

  const score = (name: string, policy: LoadedPolicy, enc: Encoder, extra: object) => {
    const target = new Float64Array(m * k);
    for (let i = 0; i < m; i++) target.set(probabilitiesOf(policy, encode(enc, test.rows[i].context, config.context), rng), i * k);
    const est = evaluatePolicy(logs, matrix(m, k, target), { rewardPredictions: q, level: args.level });
    return { name, ...extra, ips: round(est.ips), snips: round(est.snips), dr: round(est.dr!) };
  };
  const uniform = loadPolicy({ kind: 'Fixed', version: 1, probabilities: new Array(k).fill(1 / k), actionNames: config.actions.map((a) => a.name), clip: { pMin: 0, pMax: 1 } });
  let observed = 0;
  for (const r of test.rewards) observed += r;
  return {
    n_logged: args.rows.length,
    n_train: train.contexts.rows,
    n_test: m,
    level: args.level,
    logging_policy_mean_reward: observed / m,
    estimates: [
      score('live', args.live.policy, args.live.encoder, { policy_version: args.live.version, note: 'fitted on data that may include the test half' }),
      score('uniform', uniform, encoder, {}),
      ...args.candidates.map((c, i) => score(`candidate_${i}`, loadPolicy(trainPolicy(c, config, train)), encoder, { policy: c })),
    ],
  };
}
