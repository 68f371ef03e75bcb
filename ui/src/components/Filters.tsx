// Filters bound to the URL's query string, so that a reload or a shared link
// shows the same list; changing one returns the list to its first page.
import { useEffect, useState } from 'react';
import { setQuery } from '../router';

/** A filter select bound to the query string; changing it returns to page 1. */
export function Select({ name, label: text, value, options }: { name: string; label: string; value: string; options: [string, string][] }) {
  return (
    <label>
      {text}{' '}
      <select value={value} onChange={(e) => setQuery({ [name]: e.target.value, page: null })}>
        <option value="">Any</option>
        {options.map(([v, t]) => (
          <option key={v} value={v}>
            {t}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Free-text search, applied after a short pause in typing. */
export function SearchBox({ value, placeholder = 'Name or code' }: { value: string; placeholder?: string }) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text === value) return;
    const timer = setTimeout(() => setQuery({ q: text, page: null }), 300);
    return () => clearTimeout(timer);
  }, [text, value]);
  return (
    <label>
      Search <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder={placeholder} />
    </label>
  );
}
