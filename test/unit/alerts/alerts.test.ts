/** Alert signatures and webhook URL rules (no server needed). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ALERT_EVENTS, isAlertEvent } from '../../../src/alerts/events';
import { postWebhook, retryableStatus, WebhookError } from '../../../src/alerts/post';
import { newAlertSecret, signAlert, signedHeaders, verifyAlertSignature } from '../../../src/alerts/signature';
import { assertWebhookUrl, hostOf, isBlockedAddress, webhookHostPolicy } from '../../../src/alerts/webhook-url';

describe('signature', () => {
  const secret = 'whsec_test_secret_value';
  const body = JSON.stringify({ id: 'd1', type: 'activation.completed' });

  test('is HMAC-SHA256 over "<timestamp>.<body>", hex, with a sha256= prefix', () => {
    // Known answer, computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac k
    expect(signAlert('k', 1700000000, '{"a":1}')).toBe('sha256=1b6ad1bc9bf48c52ce01939866d5877c6cc4e87ddad27e16673cb8c4964394a3');
    expect(signAlert(secret, 1, body)).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(signAlert(secret, 1, body)).not.toBe(signAlert(secret, 2, body));
  });

  test('verifies what it signed, refuses changed bodies, other secrets and old timestamps', () => {
    const now = Date.now();
    const headers = signedHeaders(secret, body, { event: 'activation.completed', deliveryId: 'd1', now });
    expect(headers['x-destination-event']).toBe('activation.completed');
    expect(headers['x-destination-delivery']).toBe('d1');
    expect(verifyAlertSignature(secret, body, headers, { now })).toBe(true);
    expect(verifyAlertSignature(secret, body.replace('completed', 'failed'), headers, { now })).toBe(false);
    expect(verifyAlertSignature('another', body, headers, { now })).toBe(false);
    expect(verifyAlertSignature(secret, body, headers, { now: now + 10 * 60_000 })).toBe(false);
    expect(verifyAlertSignature(secret, body, { ...headers, 'x-destination-signature': undefined }, { now })).toBe(false);
  });

  test('secrets are random and long', () => {
    const a = newAlertSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(newAlertSecret()).not.toBe(a);
  });
});

describe('webhook URLs', () => {
  test.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://169.254.1.1/',
    'http://[fe80::1]/',
    'http://[::ffff:169.254.169.254]/',
    'http://[fd00:ec2::254]/',
    'http://100.100.100.200/',
    'http://0.0.0.0/',
    'http://224.0.0.1/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://METADATA/',
    'ftp://example.com/',
    'file:///etc/passwd',
    'https://user:pass@example.com/hook',
    'not a url',
  ])('refuses %s', (url) => {
    expect(() => assertWebhookUrl(url, { allowedHosts: [] })).toThrow(expect.objectContaining({ code: 'ALERT_URL_NOT_ALLOWED' }));
  });

  test.each(['https://hooks.example.com/x?token=abc', 'http://127.0.0.1:8080/alerts', 'http://10.0.0.5/alerts', 'https://[2001:db8::1]/a'])(
    'accepts %s',
    (url) => {
      // Loopback and private receivers need ALERT_ALLOW_PRIVATE_URLS (issue 18); public ones do not.
      expect(assertWebhookUrl(url, webhookHostPolicy({ allowedHosts: [], allowPrivateUrls: true })).href).toBeTruthy();
    },
  );

  test('ALERT_WEBHOOK_ALLOWED_HOSTS: exact hosts and *.domain', () => {
    const allowed = { allowedHosts: ['hooks.example.com', '*.pagerduty.test'] };
    expect(() => assertWebhookUrl('https://hooks.example.com/a', allowed)).not.toThrow();
    expect(() => assertWebhookUrl('https://events.pagerduty.test/a', allowed)).not.toThrow();
    expect(() => assertWebhookUrl('https://pagerduty.test/a', allowed)).toThrow(/ALERT_WEBHOOK_ALLOWED_HOSTS/);
    expect(() => assertWebhookUrl('https://evil-pagerduty.test/a', allowed)).toThrow(/ALERT_WEBHOOK_ALLOWED_HOSTS/);
    expect(() => assertWebhookUrl('http://127.0.0.1/a', allowed)).toThrow(/ALERT_WEBHOOK_ALLOWED_HOSTS/);
  });

  test('blocked addresses', () => {
    for (const a of ['169.254.169.254', '::ffff:169.254.169.254', 'fe80::abcd', 'ff02::1', '::', '0.0.0.0'])
      expect(isBlockedAddress(a)).toBe(true);
    for (const a of ['127.0.0.1', '10.1.2.3', '8.8.8.8', '::1', '2001:db8::1']) expect(isBlockedAddress(a)).toBe(false);
  });

  test('messages and logs name the host only (paths may hold a receiver secret)', () => {
    expect(hostOf('https://hooks.slack.test/services/T000/B000/SECRET')).toBe('hooks.slack.test');
  });
});

describe('postWebhook', () => {
  // The test receiver listens on loopback: allowed only with ALERT_ALLOW_PRIVATE_URLS (issue 18).
  const LOCAL = webhookHostPolicy({ allowedHosts: [], allowPrivateUrls: true });
  let server: http.Server;
  let base: string;
  let status = 200;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(status).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  test('2xx is delivered; 5xx/408/429 retryable; other 4xx final; errors never quote the path', async () => {
    status = 204;
    await expect(postWebhook(`${base}/secret-path`, '{}', {}, { timeoutMs: 5000, policy: LOCAL })).resolves.toEqual({ status: 204 });
    status = 503;
    const e503 = await postWebhook(`${base}/secret-path`, '{}', {}, { timeoutMs: 5000, policy: LOCAL }).catch((e: WebhookError) => e);
    expect(e503).toMatchObject({ status: 503, retryable: true });
    expect((e503 as Error).message).not.toContain('secret-path');
    status = 404;
    await expect(postWebhook(`${base}/x`, '{}', {}, { timeoutMs: 5000, policy: LOCAL })).rejects.toMatchObject({
      status: 404,
      retryable: false,
    });
    expect([408, 425, 429, 500, 502].every(retryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 410, 422, 301].some(retryableStatus)).toBe(false);
  });

  test('a host resolving to a link-local address is refused at delivery time', async () => {
    // localhost resolves to loopback (allowed); a blocked literal is refused before any connection.
    await expect(postWebhook('http://169.254.169.254/', '{}', {}, { timeoutMs: 2000, policy: LOCAL })).rejects.toMatchObject({
      retryable: false,
    });
  });

  test('the event list', () => {
    expect(ALERT_EVENTS).toContain('stream.lag_above_threshold');
    expect(isAlertEvent('activation.failed')).toBe(true);
    expect(isAlertEvent('nope')).toBe(false);
  });
});
