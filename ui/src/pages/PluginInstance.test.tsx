import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { NewPluginInstance } from './PluginInstance';
import { buildValue, initialDrafts, type JsonSchema } from '../components/SchemaForm';
import { json, mockFetch } from '../testing';

const schema: JsonSchema = {
  type: 'object',
  required: ['base_url'],
  properties: {
    base_url: { type: 'string', description: 'Root URL of the API' },
    page_size: { type: 'integer', default: 100 },
    verify_tls: { type: 'boolean', default: true },
    tables: { type: 'array', items: { type: 'string' } },
    locale: { type: 'string', enum: ['en-US', 'de-DE'] },
    auth: { type: 'object', properties: { user: { type: 'string' } } },
  },
};

const plugin = {
  id: 'plg-1',
  manifest: {
    id: 'com.example.snipe-it',
    name: 'Snipe-IT',
    version: '1.0.0',
    vendor: 'Example',
    kind: 'connector',
    wit_version: '0.1.0',
    capabilities: { http: ['https://*.example.com'], secrets: ['token'] },
    configuration_schema: schema,
  },
  component_sha256: 'ab',
  enabled: true,
  installed_by: 'admin',
  installed_at: '2026-11-21T10:00:00Z',
  updated_at: '2026-11-21T10:00:00Z',
  version: 1,
};

function errorOf(input: HTMLElement): string | undefined {
  const ids = input.getAttribute('aria-describedby')?.split(' ') ?? [];
  return ids.map((id) => document.getElementById(id)).find((el) => el?.classList.contains('field-error'))?.textContent ?? undefined;
}

describe('the configuration form generated from a JSON Schema', () => {
  it('starts from the defaults and builds typed values, leaving out empty optional fields', () => {
    const drafts = initialDrafts(schema);
    expect(drafts).toEqual({ '/base_url': '', '/page_size': '100', '/verify_tls': true, '/tables': '', '/locale': '', '/auth/user': '' });
    const value = buildValue(schema, { ...drafts, '/base_url': ' https://x.example.com ', '/tables': 'incident\n\nchange_request' });
    expect(value).toEqual({ base_url: 'https://x.example.com', page_size: 100, verify_tls: true, tables: ['incident', 'change_request'] });
  });

  it('sends a number that does not parse as typed, so the server names the field', () => {
    expect(buildValue(schema, { ...initialDrafts(schema), '/page_size': 'ten' })).toMatchObject({ page_size: 'ten' });
  });

  it('posts configuration, secrets and grants, and shows each refusal at its field', async () => {
    const seen = mockFetch(
      (req) => (req.method === 'GET' && req.path === '/api/v1/plugins/plg-1' ? json(200, plugin) : undefined),
      (req) =>
        req.method === 'POST' && req.path === '/api/v1/plugin-instances'
          ? json(422, {
              type: 'urn:itbm:problem:validation',
              title: 'Unprocessable Entity',
              status: 422,
              detail: '2 fields are invalid',
              errors: [
                { pointer: '/config/base_url', detail: 'is not a "uri"' },
                { pointer: '/grants/http/0', detail: 'the plugin does not ask for https://evil.test' },
              ],
            })
          : undefined,
    );
    render(<NewPluginInstance pluginId="plg-1" />);
    const baseUrl = await screen.findByLabelText('base_url *');
    fireEvent.change(baseUrl, { target: { value: 'not a url' } });
    fireEvent.change(screen.getByLabelText('token'), { target: { value: 's3cret' } });
    fireEvent.change(screen.getByLabelText('Outbound hosts'), { target: { value: 'https://evil.test' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create instance' }));

    await waitFor(() => expect(errorOf(baseUrl)).toBe('is not a "uri"'));
    expect(errorOf(screen.getByLabelText('Outbound hosts'))).toBe('line 1: the plugin does not ask for https://evil.test');
    const post = seen.find((r) => r.method === 'POST')!;
    expect(post.body).toMatchObject({
      plugin_id: 'plg-1',
      config: { base_url: 'not a url', page_size: 100, verify_tls: true },
      secrets: { token: 's3cret' },
      grants: { http: ['https://evil.test'], networks: [] },
    });
  });
});
