/** The failure vocabulary: each failure once, and every layer (AppError, HubSpot errors, Temporal failures) speaking it. */
import { ApplicationFailure } from '@temporalio/common';
import { toFailure } from '../../../activities/hubspot-access';
import { AppError } from '../../../src/errors';
import { Failure, failureByCode, failureByType, failureTypeOf, NON_RETRYABLE_FAILURE_TYPES } from '../../../src/failures';
import { classifyNetworkError, classifyResponse, HubSpotApiError } from '../../../src/hubspot/errors';

const all = Object.values(Failure);

test('types and codes are unique, so a type or a code names exactly one failure', () => {
  expect(new Set(all.map((f) => f.type)).size).toBe(all.length);
  expect(new Set(all.map((f) => f.code)).size).toBe(all.length);
  for (const f of all) {
    expect(failureByType(f.type)).toBe(f);
    expect(failureByCode(f.code)).toBe(f);
  }
  expect(failureByType('NoSuchFailure')).toBeUndefined();
});

test('the spellings users and workflows already rely on stay the same', () => {
  expect(Failure.HubSpotAuthFailed).toMatchObject({
    type: 'HubSpotAuthFailed',
    code: 'HUBSPOT_AUTH_FAILED',
    status: 422,
    retryable: false,
  });
  expect(Failure.HubSpotMissingScopes).toMatchObject({ type: 'HubSpotMissingScopes', code: 'HUBSPOT_MISSING_SCOPES' });
  expect(Failure.HubSpotMappingInvalid).toMatchObject({ type: 'HubSpotMappingInvalid', code: 'HUBSPOT_MAPPING_INVALID' });
  expect(Failure.BadRequest).toMatchObject({ type: 'SourceInvalid', code: 'BAD_REQUEST', status: 400 });
  expect(Failure.TemporalUnavailable).toMatchObject({ status: 503, retryable: true });
  expect(Failure.HubSpotUnavailable).toMatchObject({ type: 'HubSpotUnavailable', status: 502, retryable: true });
  for (const t of [
    'HubSpotAuthFailed',
    'HubSpotMissingScopes',
    'HubSpotMappingInvalid',
    'HubSpotPropertyConflict',
    'HubSpotRequestInvalid',
    'DestinationNotFound',
    'SourceInvalid',
    'AccountingError',
    'DailyLimitReached',
  ]) {
    expect(NON_RETRYABLE_FAILURE_TYPES).toContain(t);
  }
  expect(NON_RETRYABLE_FAILURE_TYPES).not.toContain('HubSpotUnavailable');
  expect(NON_RETRYABLE_FAILURE_TYPES).not.toContain('StreamDailyLimitReached');
});

test('AppError takes status and retryability from its failure unless told otherwise', () => {
  const e = new AppError('NOT_FOUND', 'x');
  expect(e).toMatchObject({ code: 'NOT_FOUND', status: 404, retryable: false, failure: Failure.NotFound });
  expect(new AppError(Failure.StreamBacklogFull, 'full')).toMatchObject({ code: 'STREAM_BACKLOG_FULL', status: 429, retryable: true });
  expect(new AppError('BAD_REQUEST', 'y', { status: 422 }).status).toBe(422);
  expect(new AppError('HUBSPOT_BASE_URL_NOT_ALLOWED', 'z').toJSON()).toEqual({
    error: { code: 'HUBSPOT_BASE_URL_NOT_ALLOWED', message: 'z' },
  });
});

test.each([
  [401, {}, 'auth', 'HubSpotAuthFailed', true],
  [403, { category: 'MISSING_SCOPES' }, 'scope', 'HubSpotMissingScopes', true],
  [403, {}, 'auth', 'HubSpotAuthFailed', true],
  [400, { category: 'VALIDATION_ERROR' }, 'validation', 'HubSpotRequestInvalid', true],
  [404, {}, 'not_found', 'HubSpotRequestInvalid', true],
  [409, {}, 'conflict', 'HubSpotRequestInvalid', true],
  [418, {}, 'client', 'HubSpotRequestInvalid', true],
  [429, { policyName: 'TEN_SECONDLY_ROLLING' }, 'rate_limit', 'HubSpotRateLimited', false],
  [503, {}, 'transient', 'HubSpotUnavailable', false],
])('HubSpot %i %j → kind %s → Temporal %s (non-retryable: %s)', (status, body, kind, type, nonRetryable) => {
  const err = classifyResponse('GET /x', status, body, 2000);
  expect(err.kind).toBe(kind);
  expect(err.retryable).toBe(!nonRetryable);
  const f = toFailure(err) as ApplicationFailure;
  expect(f).toBeInstanceOf(ApplicationFailure);
  expect(f.type).toBe(type);
  expect(f.nonRetryable).toBe(nonRetryable);
  expect(f.message).toBe(err.message);
  expect(f.nextRetryDelay).toBe(nonRetryable ? undefined : 2000);
});

test('a missing-scopes failure carries the scopes; a reset is transient; app errors keep their type', () => {
  const scope = classifyResponse('GET /x', 403, { category: 'MISSING_SCOPES', errors: [{ context: { requiredScopes: ['a', 'b'] } }] });
  expect((toFailure(scope) as ApplicationFailure).details).toEqual([{ requiredScopes: ['a', 'b'] }]);
  const reset = classifyNetworkError('GET /x', { code: 'ECONNRESET' });
  expect(reset).toBeInstanceOf(HubSpotApiError);
  expect((toFailure(reset) as ApplicationFailure).type).toBe('HubSpotUnavailable');
  expect((toFailure(new AppError('BAD_REQUEST', 'bad path')) as ApplicationFailure).type).toBe('SourceInvalid');
  expect((toFailure(new AppError('NOT_FOUND', 'no file')) as ApplicationFailure).type).toBe('NOT_FOUND');
  const retryable = new AppError('TEMPORAL_UNAVAILABLE', 'later');
  expect(toFailure(retryable)).toBe(retryable);
  expect(failureTypeOf(toFailure(new AppError('NOT_FOUND', 'n')))).toBe('NOT_FOUND');
  expect(failureTypeOf(new Error('plain'))).toBeUndefined();
});
