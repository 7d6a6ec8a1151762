/**
 * The HubSpot base URL a destination may call: HubSpot's own API hosts (HTTPS), plus origins the
 * operator allowed explicitly (HUBSPOT_ALLOWED_BASE_URLS, e.g. the simulator). Anything else is refused,
 * so the service cannot be pointed at arbitrary internal addresses with a user's request.
 */
import { AppError } from '../errors';

export const HUBSPOT_API_HOSTS = [
  'api.hubapi.com',
  'api.hubspot.com',
  'api-na1.hubapi.com',
  'api-na2.hubapi.com',
  'api-eu1.hubapi.com',
  'api-ap1.hubapi.com',
];

function origin(url: string): string | undefined {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return undefined;
  }
}

export function assertAllowedBaseUrl(baseUrl: string, allowed: string[]): void {
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    throw new AppError('HUBSPOT_BASE_URL_NOT_ALLOWED', `hubspot.baseUrl '${baseUrl}' is not a valid URL.`, { status: 400 });
  }
  if (u.username || u.password)
    throw new AppError('HUBSPOT_BASE_URL_NOT_ALLOWED', 'hubspot.baseUrl must not contain credentials.', { status: 400 });
  if (u.protocol === 'https:' && HUBSPOT_API_HOSTS.includes(u.hostname) && (u.port === '' || u.port === '443')) return;
  const o = origin(baseUrl);
  if (o && allowed.map(origin).includes(o)) return;
  throw new AppError(
    'HUBSPOT_BASE_URL_NOT_ALLOWED',
    `hubspot.baseUrl ${o ?? baseUrl} is not allowed. Use HubSpot's API (https://api.hubapi.com) or ask the operator to add it to HUBSPOT_ALLOWED_BASE_URLS.`,
    { status: 400, details: { allowed: ['https://api.hubapi.com', ...allowed.map(origin).filter(Boolean)] } },
  );
}
