// A large batch prediction on a worker thread (a 100-tree forest over thousands of rows takes longer
// than the event loop may be held): the model's JSON and the rows in, class probabilities out.
import { RandomForestClassifier } from '../../ml/forest.ts';
import { fromRows } from '../../ml/matrix.ts';
import { DecisionTreeClassifier } from '../../ml/tree.ts';

export default function predict(data: { algorithm: string; artifact: unknown; rows: number[][] }): { proba: number[]; cols: number } {
  const model = data.algorithm === 'random_forest' ? RandomForestClassifier.fromJSON(data.artifact) : DecisionTreeClassifier.fromJSON(data.artifact);
  const p = model.predictProba(fromRows(data.rows));
  return { proba: Array.from(p.data), cols: p.cols };
}
