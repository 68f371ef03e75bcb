import { Field } from './Field';
import { pointer } from '../api/problem';

/** The part of JSON Schema a plugin's configuration form is generated from. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  format?: string;
  items?: JsonSchema;
  writeOnly?: boolean;
}

/** What the admin typed, by JSON pointer: text for inputs, booleans for checkboxes. */
export type Drafts = Record<string, string | boolean>;

const typeOf = (s: JsonSchema) => (Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type) ?? 'string';

/** The drafts a schema starts from: its defaults. */
export function initialDrafts(schema: JsonSchema, at = ''): Drafts {
  const drafts: Drafts = {};
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const p = at + pointer(name);
    const type = typeOf(prop);
    if (type === 'object') Object.assign(drafts, initialDrafts(prop, p));
    else if (type === 'boolean') drafts[p] = prop.default === true;
    else if (type === 'array') drafts[p] = Array.isArray(prop.default) ? prop.default.join('\n') : '';
    else drafts[p] = prop.default === undefined ? '' : String(prop.default);
  }
  return drafts;
}

/**
 * The configuration document the drafts describe. Empty optional inputs are
 * left out; a number that does not parse is sent as typed, so that the server's
 * validation names the field rather than the form guessing.
 */
export function buildValue(schema: JsonSchema, drafts: Drafts, at = ''): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const p = at + pointer(name);
    const type = typeOf(prop);
    if (type === 'object') {
      const inner = buildValue(prop, drafts, p);
      if (Object.keys(inner).length > 0 || schema.required?.includes(name)) value[name] = inner;
      continue;
    }
    const draft = drafts[p];
    if (type === 'boolean') {
      value[name] = draft === true;
      continue;
    }
    const text = typeof draft === 'string' ? draft.trim() : '';
    if (text === '') continue;
    if (type === 'array') {
      const items = text.split('\n').map((s) => s.trim()).filter(Boolean);
      const itemType = prop.items ? typeOf(prop.items) : 'string';
      value[name] = itemType === 'integer' || itemType === 'number' ? items.map(asNumber) : items;
    } else if (type === 'integer' || type === 'number') {
      value[name] = asNumber(text);
    } else {
      value[name] = text;
    }
  }
  return value;
}

function asNumber(text: string): number | string {
  const n = Number(text);
  return text !== '' && Number.isFinite(n) ? n : text;
}

/** Every pointer the form shows, for placing a problem's errors (`prefix` + field pointer). */
export function schemaPointers(schema: JsonSchema, prefix: string, at = ''): string[] {
  const out: string[] = [];
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const p = at + pointer(name);
    out.push(prefix + p);
    if (typeOf(prop) === 'object') out.push(...schemaPointers(prop, prefix, p));
  }
  return out;
}

/**
 * Inputs generated from a JSON Schema: text, numbers, choices, checkboxes,
 * lists (one item per line) and nested objects as fieldsets. Errors come by
 * the same pointers the server's validation uses (`/config/base_url`).
 */
export function SchemaForm({
  schema,
  drafts,
  onChange,
  errors,
  prefix,
  at = '',
}: {
  schema: JsonSchema;
  drafts: Drafts;
  onChange: (drafts: Drafts) => void;
  errors: Record<string, string[]>;
  prefix: string;
  at?: string;
}) {
  const entries = Object.entries(schema.properties ?? {});
  if (entries.length === 0 && !at) return <p className="hint">This plugin takes no configuration.</p>;
  return (
    <>
      {entries.map(([name, prop]) => {
        const p = at + pointer(name);
        const type = typeOf(prop);
        const label = (prop.title ?? name) + (schema.required?.includes(name) ? ' *' : '');
        const set = (v: string | boolean) => onChange({ ...drafts, [p]: v });
        if (type === 'object') {
          return (
            <fieldset key={p}>
              <legend>{label}</legend>
              <SchemaForm schema={prop} drafts={drafts} onChange={onChange} errors={errors} prefix={prefix} at={p} />
            </fieldset>
          );
        }
        const common = { label, hint: prop.description, errors: errors[prefix + p] };
        if (type === 'boolean') {
          return (
            <Field key={p} {...common} className="field-check">
              <input type="checkbox" checked={drafts[p] === true} onChange={(e) => set(e.target.checked)} />
            </Field>
          );
        }
        const text = typeof drafts[p] === 'string' ? (drafts[p] as string) : '';
        if (prop.enum) {
          return (
            <Field key={p} {...common}>
              <select value={text} onChange={(e) => set(e.target.value)}>
                <option value="">—</option>
                {prop.enum.map((o) => (
                  <option key={String(o)} value={String(o)}>
                    {String(o)}
                  </option>
                ))}
              </select>
            </Field>
          );
        }
        if (type === 'array') {
          return (
            <Field key={p} {...common} hint={[prop.description, 'One per line.'].filter(Boolean).join(' ')}>
              <textarea rows={3} value={text} onChange={(e) => set(e.target.value)} />
            </Field>
          );
        }
        const inputType = type === 'integer' || type === 'number' ? 'text' : prop.format === 'uri' ? 'url' : 'text';
        return (
          <Field key={p} {...common}>
            <input
              type={inputType}
              inputMode={type === 'integer' ? 'numeric' : type === 'number' ? 'decimal' : undefined}
              value={text}
              onChange={(e) => set(e.target.value)}
            />
          </Field>
        );
      })}
    </>
  );
}
