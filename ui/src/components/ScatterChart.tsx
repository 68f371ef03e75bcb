import { compact, niceCeiling } from '../format';

export interface Point {
  label: string;
  x: number;
  y: number;
  /** Bubble size (any positive scale); absent: a plain dot. */
  size?: number;
  color?: string;
}

/**
 * Points on two numeric axes in plain SVG: a bubble chart (with `size`), or a
 * curve (with `line`, points joined in x order). The figures are also in a
 * table for screen readers, so the picture is decoration plus a title.
 */
export function ScatterChart({
  title,
  points,
  xLabel,
  yLabel,
  sizeLabel,
  line = false,
  height = 280,
  format = compact,
  legend,
}: {
  title: string;
  points: Point[];
  xLabel: string;
  yLabel: string;
  sizeLabel?: string;
  line?: boolean;
  height?: number;
  format?: (v: number) => string;
  legend?: { name: string; color: string }[];
}) {
  if (points.length === 0) {
    return (
      <figure className="chart">
        <figcaption>{title}</figcaption>
        <p className="hint">Nothing to show yet.</p>
      </figure>
    );
  }
  const width = 640;
  const [top, right, bottom, left] = [14, 16, 40, 60];
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const span = (values: number[]) => {
    const lo = Math.min(0, ...values);
    const hi = niceCeiling(Math.max(...values.map(Math.abs), 1));
    return [lo < 0 ? -niceCeiling(-lo) : 0, Math.max(hi, 0)] as const;
  };
  const [x0, x1] = span(xs);
  const [y0, y1] = span(ys);
  const px = (x: number) => left + ((x - x0) / (x1 - x0 || 1)) * (width - left - right);
  const py = (y: number) => top + (1 - (y - y0) / (y1 - y0 || 1)) * (height - top - bottom);
  const maxSize = Math.max(...points.map((p) => p.size ?? 0), 1);
  const radius = (p: Point) => (p.size === undefined ? 4 : 4 + 18 * Math.sqrt(Math.max(0, p.size) / maxSize));
  const ordered = [...points].sort((a, b) => a.x - b.x);
  const ticks = (lo: number, hi: number) => [lo, lo + (hi - lo) / 2, hi];
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      {legend && (
        <ul className="legend" aria-hidden="true">
          {legend.map((s) => (
            <li key={s.name}>
              <span className="swatch" style={{ background: s.color }} /> {s.name}
            </li>
          ))}
        </ul>
      )}
      <svg viewBox={`0 0 ${width} ${height}`} width="100%" height={height} role="img" aria-label={title} preserveAspectRatio="xMinYMin meet">
        {ticks(y0, y1).map((t) => (
          <g key={`y${t}`}>
            <line x1={left} x2={width - right} y1={py(t)} y2={py(t)} className="grid" />
            <text x={left - 6} y={py(t) + 4} textAnchor="end" className="tick">
              {format(t)}
            </text>
          </g>
        ))}
        {ticks(x0, x1).map((t) => (
          <text key={`x${t}`} x={px(t)} y={height - bottom + 16} textAnchor="middle" className="tick">
            {format(t)}
          </text>
        ))}
        <text x={(left + width - right) / 2} y={height - 4} textAnchor="middle" className="tick">
          {xLabel}
        </text>
        <text x={12} y={top + (height - top - bottom) / 2} textAnchor="middle" className="tick" transform={`rotate(-90 12 ${top + (height - top - bottom) / 2})`}>
          {yLabel}
        </text>
        {line && (
          <polyline
            fill="none"
            stroke="#1d4ed8"
            strokeWidth={2}
            points={ordered.map((p) => `${px(p.x)},${py(p.y)}`).join(' ')}
          />
        )}
        {ordered.map((p, i) => (
          <circle key={i} cx={px(p.x)} cy={py(p.y)} r={radius(p)} fill={p.color ?? '#1d4ed8'} fillOpacity={p.size === undefined ? 1 : 0.55} stroke="#0f172a" strokeOpacity={0.3}>
            <title>{`${p.label}: ${xLabel} ${format(p.x)}, ${yLabel} ${format(p.y)}${p.size !== undefined && sizeLabel ? `, ${sizeLabel} ${p.size}` : ''}`}</title>
          </circle>
        ))}
      </svg>
      <table className="visually-hidden">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col">{xLabel}</th>
            <th scope="col">{yLabel}</th>
            {sizeLabel && <th scope="col">{sizeLabel}</th>}
          </tr>
        </thead>
        <tbody>
          {points.map((p, i) => (
            <tr key={i}>
              <th scope="row">{p.label}</th>
              <td>{format(p.x)}</td>
              <td>{format(p.y)}</td>
              {sizeLabel && <td>{p.size}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
