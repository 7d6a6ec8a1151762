/**
 * Codec server: `POST /codec/encode` and `POST /codec/decode`, as the Temporal Web UI and CLI call them
 * (`--ui-codec-endpoint <API URL>/codec`, `temporal ... --codec-endpoint <API URL>/codec --codec-auth
 * "Bearer <API key>"`). Bodies are `{payloads: [...]}` in proto-JSON (metadata values and data base64).
 * Access rules are in ../codec-access.ts and ../auth.ts.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../config';
import { AppError } from '../../errors';
import { setCodecCors } from '../codec-access';
import { ErrorBody } from '../schemas';
import type { TypedApp } from '../app-types';

const JsonPayload = z.object({
  metadata: z.record(z.string(), z.string()).optional(),
  data: z.string().optional(),
});
// `{}` is an empty list: the temporal CLI sends it (issue 18).
const JsonPayloads = z.strictObject({ payloads: z.array(JsonPayload).max(10_000).default([]) }).meta({ id: 'Payloads' });
type JsonPayloadT = z.infer<typeof JsonPayload>;

export function fromJsonPayload(p: JsonPayloadT): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) metadata[k] = new Uint8Array(Buffer.from(v, 'base64'));
  return { metadata, data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')) };
}

export function toJsonPayload(p: Payload): JsonPayloadT {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) if (v) metadata[k] = Buffer.from(v).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') };
}

/** CORS for the Web UI on every /codec/ response (errors included, so the UI can show them). */
export function registerCodecCors(app: FastifyInstance, config: Config): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/codec/')) setCodecCors(req, reply, config);
  });
}

export function registerCodecRoutes(app: TypedApp, deps: { config: Config; codec: PayloadCodec }): void {
  const tags = ['codec'];
  for (const op of ['encode', 'decode'] as const) {
    app.options(`/codec/${op}`, { schema: { hide: true } }, async (_req, reply) => reply.status(204).send());
    app.post(
      `/codec/${op}`,
      {
        schema: {
          tags,
          summary: op === 'encode' ? 'Encrypt payloads with the primary codec key' : 'Decrypt payloads (for the Temporal Web UI and CLI)',
          body: JsonPayloads,
          response: { 200: JsonPayloads, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (req) => {
        const payloads = req.body.payloads.map(fromJsonPayload);
        try {
          const out = op === 'encode' ? await deps.codec.encode(payloads) : await deps.codec.decode(payloads);
          return { payloads: out.map(toJsonPayload) };
        } catch (err) {
          // Bad input (unknown key id, altered data, not a payload), not a server fault.
          throw new AppError('BAD_REQUEST', `Cannot ${op} the payloads: ${(err as Error).message}`);
        }
      },
    );
  }
}
