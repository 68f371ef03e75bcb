import { useEffect, useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { placeProblem } from '../api/problem';
import { useAction, useLoad } from '../hooks';
import { label } from '../format';
import { Field } from '../components/Field';
import { ProblemAlert } from '../components/ProblemAlert';

type Framework = Schemas['Framework'];
type ItemScore = Schemas['ItemScore'];

/**
 * Scores one demand or project in a scoring framework: a value per manual
 * criterion within its scale, and the score with each criterion's part in it.
 * Alignment criteria come from the item's goal links, not from this form.
 */
export function ScoreCard({
  itemKind,
  itemId,
  portfolioId,
  canWrite,
}: {
  itemKind: 'demand' | 'project';
  itemId: string;
  portfolioId?: string | null;
  canWrite: boolean;
}) {
  const frameworks = useLoad(() => unwrap(api.GET('/api/v1/scoring-frameworks')), []);
  const [frameworkId, setFrameworkId] = useState('');
  const framework: Framework | undefined = frameworks.data?.find((f) => f.id === frameworkId) ?? frameworks.data?.[0];
  // The item's current score, from its portfolio's ranking.
  const current = useLoad(async () => {
    if (!framework || !portfolioId) return undefined;
    const ranking = await unwrap(
      api.GET('/api/v1/scoring-frameworks/{id}/ranking', { params: { path: { id: framework.id }, query: { portfolio_id: portfolioId } } }),
    );
    // A ranked item is its score with its rank.
    return ranking.items.find((i) => i.item_id === itemId);
  }, [framework?.id, portfolioId, itemId]);
  const [score, setScore] = useState<ItemScore | undefined>();
  const [values, setValues] = useState<Record<string, string>>({});
  useEffect(() => {
    setScore(current.data);
    setValues(Object.fromEntries((current.data?.contributions ?? []).map((c) => [c.criterion, c.value])));
  }, [current.data]);

  const save = useAction(async () => {
    if (!framework) return;
    const manual = framework.criteria.filter((c) => c.source === 'manual');
    const body = { values: Object.fromEntries(manual.filter((c) => (values[c.key] ?? '').trim() !== '').map((c) => [c.key, values[c.key].trim()])) };
    setScore(
      await unwrap(
        api.PUT('/api/v1/scoring-frameworks/{id}/scores/{item_kind}/{item_id}', {
          params: { path: { id: framework.id, item_kind: itemKind, item_id: itemId } },
          body,
        }),
      ),
    );
  });

  if (frameworks.problem) return <ProblemAlert problem={frameworks.problem} />;
  if (!framework) return null;
  const placed = placeProblem(
    save.problem,
    framework.criteria.map((c) => `/values/${c.key}`),
  );
  return (
    <section className="scoring" aria-label="Scoring">
      <div className="page-head">
        <h3>Score</h3>
        <label>
          Framework{' '}
          <select value={framework.id} onChange={(e) => setFrameworkId(e.target.value)}>
            {frameworks.data!.map((f) => (
              <option key={f.id} value={f.id}>
                {f.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ProblemAlert problem={save.problem ?? current.problem} unplaced={placed.unplaced} />
      <form
        className="form-row"
        onSubmit={(e) => {
          e.preventDefault();
          save.perform();
        }}
      >
        {framework.criteria.map((c) =>
          c.source === 'manual' ? (
            <Field key={c.key} label={`${c.name} (${c.scale_min}–${c.scale_max})`} errors={placed.fields[`/values/${c.key}`]} className="field-score">
              <input
                inputMode="decimal"
                value={values[c.key] ?? ''}
                disabled={!canWrite}
                onChange={(e) => setValues({ ...values, [c.key]: e.target.value })}
              />
            </Field>
          ) : (
            <p key={c.key} className="hint">
              {c.name}: from the goal links
            </p>
          ),
        )}
        {canWrite && (
          <button type="submit" className="primary" disabled={save.busy}>
            Save scores
          </button>
        )}
      </form>
      {score && (
        <p role="status">
          <strong>{framework.name} score: {score.score ?? 'incomplete'}</strong>
          {score.missing.length > 0 && ` (missing: ${score.missing.join(', ')})`}
          {score.contributions.length > 0 && (
            <>
              {' '}
              ={' '}
              {score.contributions
                .map((c) => `${c.criterion} ${c.value}${c.role === 'term' && c.contribution != null ? ` → +${c.contribution}` : ` (${label(c.role)})`}`)
                .join(', ')}
            </>
          )}
        </p>
      )}
    </section>
  );
}
