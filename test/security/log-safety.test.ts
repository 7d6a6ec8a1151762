/**
 * The places a token or contact data could slip into logs or error messages: pino redaction, error
 * serialisation (axios errors carry request headers), Temporal SDK trace logs (whole activations), and
 * the HubSpot client (its token must not show in inspection, serialisation or quoted error text).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import util from 'node:util';
import axios from 'axios';
import { HubSpotClient } from '../../src/hubspot/client';
import { HubSpotApiError } from '../../src/hubspot/errors';
import { createLogger, serializeError } from '../../src/logger';
import { withoutPayloads } from '../../src/temporal/log-payloads';
import { PinoTemporalLogger } from '../../src/temporal/runtime';

const TOKEN = 'pat-na1-99999999-8888-7777-6666-555555555555';
const EMAIL = 'lin.secret@example.com';

function bufferLogger(level = 'trace') {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level, destination: sink }), text: () => lines.join('') };
}

test('pino redacts secrets and contact data by key, at any of the first levels of nesting', () => {
  const { logger, text } = bufferLogger();
  logger.info(
    {
      token: TOKEN,
      authorization: `Bearer ${TOKEN}`,
      email: EMAIL,
      req: { headers: { authorization: TOKEN } },
      batch: { properties: { email: EMAIL } },
    },
    'hello',
  );
  expect(text()).not.toContain(TOKEN);
  expect(text()).not.toContain(EMAIL);
  expect(text()).toContain('[redacted]');
});

test('errors are logged as type, message, code and stack: an axios error does not bring its request headers', async () => {
  const { logger, text } = bufferLogger();
  const err = await axios
    .get('http://127.0.0.1:1/', { headers: { Authorization: `Bearer ${TOKEN}` }, timeout: 2000 })
    .catch((e: unknown) => e as Error);
  expect(JSON.stringify((err as unknown as { config: unknown }).config)).toContain(TOKEN); // what would leak
  logger.error({ err }, 'call failed');
  logger.warn({ error: err }, 'again');
  expect(text()).not.toContain(TOKEN);
  expect(text()).toContain('ECONNREFUSED');
  expect(serializeError(new Error('x', { cause: err }))).toMatchObject({ type: 'Error', message: 'x', cause: { code: 'ECONNREFUSED' } });
});

describe('Temporal SDK logs', () => {
  const activation = () => ({
    runId: 'r1',
    jobs: [
      {
        signalWorkflow: {
          signalName: 'profiles',
          input: [
            {
              metadata: { encoding: new TextEncoder().encode('json/plain') },
              data: new TextEncoder().encode(JSON.stringify({ e: EMAIL })),
            },
          ],
        },
      },
    ],
    searchAttributes: { indexedFields: { DestinationId: { metadata: { encoding: 'json/plain' }, data: 'ImQi' } } },
  });

  test('payloads are replaced by their encoding and size; everything else is kept', () => {
    const safe = withoutPayloads(activation());
    expect(JSON.stringify(safe)).not.toContain(Buffer.from(EMAIL).toString('base64').slice(0, 12));
    expect(safe.jobs[0].signalWorkflow.input[0]).toEqual({ payload: 'json/plain', bytes: JSON.stringify({ e: EMAIL }).length });
    expect(safe.runId).toBe('r1');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(withoutPayloads(cyclic)).toEqual({ a: 1, self: '[…]' });
  });

  test('the runtime logger writes TRACE activations without payload data, even when they are decoded later', () => {
    const { logger, text } = bufferLogger('trace');
    const a = activation();
    new PinoTemporalLogger(logger).trace('Got workflow activation', a);
    expect(text()).toContain('Got workflow activation');
    expect(text()).not.toContain(Buffer.from(JSON.stringify({ e: EMAIL })).toString('base64'));
    expect(text()).not.toContain(EMAIL);
  });

  test('below its level the runtime logger does nothing (no cost on every activation)', () => {
    const { logger, text } = bufferLogger('info');
    new PinoTemporalLogger(logger).trace('Got workflow activation', activation());
    expect(text()).toBe('');
  });
});

async function failureOf(p: Promise<unknown>): Promise<HubSpotApiError> {
  return p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as HubSpotApiError,
  );
}

describe('HubSpot client', () => {
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    // A "HubSpot" that quotes the credential back in its error text, as some APIs do.
    server = http.createServer((req, res) => {
      const auth = req.headers.authorization ?? '';
      res.writeHead(409, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', category: 'CONFLICT', message: `Conflict for credential ${auth.replace('Bearer ', '')}` }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  test('the token is not visible by inspecting or serialising a client', () => {
    const client = new HubSpotClient({ baseUrl: url, token: TOKEN });
    expect(util.inspect(client, { depth: 10, showHidden: false })).not.toContain(TOKEN);
    expect(JSON.stringify(client)).not.toContain(TOKEN);
    expect(
      Object.values(client as unknown as Record<string, unknown>)
        .map((v) => util.inspect(v, { depth: 10 }))
        .join(''),
    ).not.toContain(TOKEN);
  });

  test('HubSpot error text that quotes the token is scrubbed', async () => {
    const client = new HubSpotClient({ baseUrl: url, token: TOKEN });
    const err = await failureOf(client.getAccountDetails());
    expect(err).toBeInstanceOf(HubSpotApiError);
    expect(err.kind).toBe('conflict');
    expect(err.message).toContain('[redacted]');
    expect(err.message).not.toContain(TOKEN);
    expect(JSON.stringify(err.info)).not.toContain(TOKEN);
    expect(util.inspect(err, { depth: 10 })).not.toContain(TOKEN);
  });

  test('a network failure names the route and code, never the request', async () => {
    const client = new HubSpotClient({ baseUrl: 'http://127.0.0.1:1', token: TOKEN, timeoutMs: 2000 });
    const err = await failureOf(client.getAccountDetails());
    expect(err.message).toMatch(/No answer from HubSpot on GET \/account-info\/v3\/details \(ECONNREFUSED\)/);
    expect(util.inspect(err, { depth: 10 })).not.toContain(TOKEN);
  });
});
