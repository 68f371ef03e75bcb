import { compact, niceCeiling } from '../format';

export interface Series {
  name: string;
  color: string;
}

export interface BarGroup {
  label: string;
  /** One value per series, in the series' order. */
  values: number[];
  /** Overrides the series' colour (a one-series chart of categories). */
  color?: string;
}

/**
 * Vertical grouped bars in plain SVG. The numbers are also in a table for
 * screen readers (and anyone who wants the figures), so the picture is
 * decoration plus a title.
 */
export function BarChart({
  title,
  series,
  groups,
  height = 220,
  format = compact,
}: {
  title: string;
  series: Series[];
  groups: BarGroup[];
  height?: number;
  format?: (v: number) => string;
}) {
  if (groups.every((g) => g.values.every((v) => v === 0))) {
    return (
      <figure className="chart">
        <figcaption>{title}</figcaption>
        <p className="hint">Nothing to show yet.</p>
      </figure>
    );
  }
  const width = Math.max(320, groups.length * (series.length * 18 + 22) + 60);
  const top = 12;
  const bottom = 28;
  const left = 52;
  const plot = height - top - bottom;
  const max = niceCeiling(Math.max(0, ...groups.flatMap((g) => g.values.map((v) => Math.abs(v)))));
  const step = (width - left - 8) / Math.max(1, groups.length);
  const bar = Math.min(28, (step - 12) / Math.max(1, series.length));
  const ticks = [0, 0.5, 1].map((f) => f * max);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      {series.length > 1 && (
        <ul className="legend" aria-hidden="true">
          {series.map((s) => (
            <li key={s.name}>
              <span className="swatch" style={{ background: s.color }} /> {s.name}
            </li>
          ))}
        </ul>
      )}
      <svg viewBox={`0 0 ${width} ${height}`} width="100%" height={height} role="img" aria-label={title} preserveAspectRatio="xMinYMin meet">
        {ticks.map((t) => {
          const y = top + plot - (t / max) * plot;
          return (
            <g key={t}>
              <line x1={left} x2={width - 4} y1={y} y2={y} className="grid" />
              <text x={left - 6} y={y + 4} textAnchor="end" className="tick">
                {format(t)}
              </text>
            </g>
          );
        })}
        {groups.map((g, i) => {
          const x0 = left + i * step + (step - bar * series.length) / 2;
          return (
            <g key={g.label}>
              {g.values.map((v, j) => {
                const h = (Math.abs(v) / max) * plot;
                return (
                  <rect key={j} x={x0 + j * bar} y={top + plot - h} width={bar - 2} height={h} fill={g.color ?? series[j]?.color}>
                    <title>{`${g.label} · ${series[j]?.name}: ${format(v)}`}</title>
                  </rect>
                );
              })}
              <text x={left + i * step + step / 2} y={height - 10} textAnchor="middle" className="tick">
                {g.label}
              </text>
            </g>
          );
        })}
      </svg>
      <table className="visually-hidden">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">Group</th>
            {series.map((s) => (
              <th key={s.name} scope="col">
                {s.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => (
            <tr key={g.label}>
              <th scope="row">{g.label}</th>
              {g.values.map((v, j) => (
                <td key={j}>{format(v)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
