/** Uploads: stream a CSV custom upload or an XDM NDJSON file into the upload store. */
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { AppError } from '../../errors';
import { ErrorBody, UploadResult } from '../schemas';
import type { ApiDeps, TypedApp } from '../app-types';
import { unsupportedMediaType } from '../media-types';

const UPLOAD_TYPES = [
  'text/csv',
  'application/x-ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/octet-stream',
  'text/plain',
];

export function registerUploadRoutes(app: TypedApp, deps: ApiDeps): void {
  const { config, services } = deps;
  // The body is streamed to the store, never buffered: uploads can be far larger than the JSON body limit.
  // Other routes take JSON: a file type sent to them is a 415, not a stream handed to their schema.
  app.addContentTypeParser(UPLOAD_TYPES, { bodyLimit: config.api.uploadMaxBytes }, (req, payload, done) => {
    if (req.routeOptions.url === '/v1/uploads') return done(null, payload);
    payload.resume(); // drain it unread
    done(Object.assign(new Error(unsupportedMediaType(req)), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }));
  });

  app.post(
    '/v1/uploads',
    {
      bodyLimit: config.api.uploadMaxBytes,
      schema: {
        tags: ['uploads'],
        summary: 'Stream a file (CSV custom upload with an `email` column, or XDM profiles as NDJSON) into the upload store',
        description: 'Send the file as the raw body with Content-Type text/csv or application/x-ndjson; name it with ?filename=.',
        querystring: z.strictObject({ filename: z.string().max(255).optional() }),
        response: { 201: UploadResult, 400: ErrorBody, 413: ErrorBody, 415: ErrorBody },
      },
    },
    async (req, reply) => {
      const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
      if (!UPLOAD_TYPES.includes(contentType)) {
        throw new AppError(
          'BAD_REQUEST',
          `Send the file as the raw body with Content-Type text/csv or application/x-ndjson (got '${contentType || 'none'}').`,
          { status: 415 },
        );
      }
      const saved = await services.uploads.save(req.body as Readable, {
        filename: req.query.filename,
        contentType,
        maxBytes: config.api.uploadMaxBytes,
        maxLineBytes: config.api.maxLineBytes,
      });
      return reply.status(201).send({ uploadId: saved.uploadId, format: saved.format, bytes: saved.bytes, rows: saved.rows });
    },
  );
}
