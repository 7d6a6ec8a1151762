/** The CLI's API client sends JSON on every POST, also without a body (the API refuses form bodies with 415). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient } from '../../../src/cli/api-client';

test('a POST without a body sends {} as JSON', async () => {
  const seen: Array<{ type?: string; body: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ type: req.headers['content-type'], body });
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const api = new ApiClient({ apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'k' });
    expect(await api.post('/v1/syncs/syn-1/trigger')).toEqual({ ok: true });
    expect(seen[0].type).toMatch(/^application\/json/);
    expect(JSON.parse(seen[0].body)).toEqual({});
  } finally {
    await new Promise((r) => server.close(r));
  }
});
