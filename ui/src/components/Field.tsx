import { useId, type ReactElement, cloneElement } from 'react';

/**
 * A labelled form control with its errors underneath, tied together for
 * screen readers (aria-describedby, aria-invalid).
 */
export function Field({
  label,
  errors,
  hint,
  children,
  className,
}: {
  label: string;
  errors?: string[];
  hint?: string;
  children: ReactElement<Record<string, unknown>>;
  className?: string;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const invalid = (errors?.length ?? 0) > 0;
  const describedBy = [hint ? hintId : null, invalid ? errorId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field ${invalid ? 'field-invalid' : ''} ${className ?? ''}`}>
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, { id, 'aria-invalid': invalid || undefined, 'aria-describedby': describedBy })}
      {hint && (
        <small id={hintId} className="hint">
          {hint}
        </small>
      )}
      {invalid && (
        <small id={errorId} className="field-error">
          {errors!.join('; ')}
        </small>
      )}
    </div>
  );
}
