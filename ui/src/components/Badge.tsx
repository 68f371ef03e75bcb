import { label } from '../format';

/** A state, health or category as a coloured label (the text carries the meaning, not the colour). */
export function Badge({ value, kind }: { value: string; kind?: string }) {
  return <span className={`badge badge-${kind ?? 'state'} badge-${value}`}>{label(value)}</span>;
}
