/**
 * The payload codec on its own: round-trips, key rotation, failure-message encoding, and where its keys
 * come from (env, key file created with mode 0600, no silent creation when not allowed).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  decodeOptionalFailureToOptionalError,
  encodeErrorToFailure,
  encodeToPayload,
} from '@temporalio/common/lib/internal-non-workflow/codec-helpers';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/data-converter-helpers';
import { loadConfig } from '../../src/config';
import { parseKeyringValue, rotateKeyring, type Keyring } from '../../src/secrets/keyring';
import { ENCODING_ENCRYPTED, EncryptionCodec, METADATA_KEY_ID } from '../../src/temporal/codec';
import { createDataConverter, loadCodecKeyring } from '../../src/temporal/data-converter';
import { tempDir } from '../helpers/stack';

const SECRET = 'pat-na1-11111111-2222-3333-4444-555555555555';
const EMAIL = 'ada.lovelace@example.com';

function ring(): Keyring {
  return parseKeyringValue(`k1:${Buffer.alloc(32, 7).toString('base64')}`);
}

function payloadOf(value: unknown): Payload {
  return defaultPayloadConverter.toPayload(value);
}

const meta = (p: Payload, key: string) => Buffer.from(p.metadata![key]).toString('utf8');
const contains = (p: Payload, needle: string) =>
  Buffer.from(p.data ?? []).includes(needle) || Object.values(p.metadata ?? {}).some((v) => Buffer.from(v).includes(needle));

describe('EncryptionCodec', () => {
  test('encrypts the whole payload (data and metadata) and decodes it back exactly', async () => {
    const codec = new EncryptionCodec(ring());
    const original = payloadOf({ token: SECRET, email: EMAIL, n: 1 });
    const [encoded] = await codec.encode([original]);
    expect(meta(encoded, 'encoding')).toBe(ENCODING_ENCRYPTED);
    expect(meta(encoded, METADATA_KEY_ID)).toBe('k1');
    expect(Object.keys(encoded.metadata!).sort()).toEqual(['encoding', METADATA_KEY_ID].sort());
    expect(contains(encoded, SECRET)).toBe(false);
    expect(contains(encoded, EMAIL)).toBe(false);
    expect(contains(encoded, 'json/plain')).toBe(false); // the original encoding is inside the ciphertext

    const [decoded] = await codec.decode([encoded]);
    expect(meta(decoded, 'encoding')).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual({ token: SECRET, email: EMAIL, n: 1 });
  });

  test('uses a fresh IV each time: equal payloads do not encrypt alike', async () => {
    const codec = new EncryptionCodec(ring());
    const [a, b] = await codec.encode([payloadOf('same'), payloadOf('same')]);
    expect(Buffer.from(a.data!).equals(Buffer.from(b.data!))).toBe(false);
  });

  test('round-trips empty data, binary payloads and many payloads at once', async () => {
    const codec = new EncryptionCodec(ring());
    const inputs = [
      payloadOf(undefined),
      payloadOf(new Uint8Array([0, 1, 2, 255])),
      ...Array.from({ length: 50 }, (_, i) => payloadOf({ i })),
    ];
    const decoded = await codec.decode(await codec.encode(inputs));
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(inputs.map((p) => defaultPayloadConverter.fromPayload(p)));
  });

  test('passes payloads in other encodings through decode (history written before encryption)', async () => {
    const codec = new EncryptionCodec(ring());
    const plain = payloadOf({ a: 1 });
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  test('refuses altered ciphertext', async () => {
    const codec = new EncryptionCodec(ring());
    const [encoded] = await codec.encode([payloadOf('x')]);
    const data = Buffer.from(encoded.data!);
    data[20] ^= 1;
    await expect(codec.decode([{ ...encoded, data }])).rejects.toThrow(/does not decrypt/);
  });

  test('key rotation: a new primary key encrypts, payloads written with the old key still decode', async () => {
    const oldRing = ring();
    const oldPayloads = await new EncryptionCodec(oldRing).encode([payloadOf({ email: EMAIL })]);

    const rotated = rotateKeyring(oldRing);
    const codec = new EncryptionCodec(rotated);
    expect(rotated.primaryId).not.toBe('k1');
    const [fresh] = await codec.encode([payloadOf('new')]);
    expect(meta(fresh, METADATA_KEY_ID)).toBe(rotated.primaryId);

    const [old] = await codec.decode(oldPayloads);
    expect(defaultPayloadConverter.fromPayload(old)).toEqual({ email: EMAIL });
    expect(defaultPayloadConverter.fromPayload((await codec.decode([fresh]))[0])).toBe('new');

    // A process that dropped the old key says what to fix.
    const onlyNew: Keyring = { primaryId: rotated.primaryId, keys: new Map([[rotated.primaryId, rotated.keys.get(rotated.primaryId)!]]) };
    await expect(new EncryptionCodec(onlyNew).decode(oldPayloads)).rejects.toThrow(/codec key 'k1'.*same codec keys/);
  });

  test('a codec with a different key under the same id cannot read the payload', async () => {
    const [encoded] = await new EncryptionCodec(ring()).encode([payloadOf('x')]);
    const other = parseKeyringValue(`k1:${Buffer.alloc(32, 9).toString('base64')}`);
    await expect(new EncryptionCodec(other).decode([encoded])).rejects.toThrow(/does not decrypt/);
  });
});

describe('data converter', () => {
  const configFor = (env: Record<string, string> = {}) => loadConfig({ DATA_DIR: tempDir('hsd-codec-'), ...env });

  test('failure messages and stack traces are encoded, then encrypted by the codec', async () => {
    const converter = loadDataConverter(createDataConverter(configFor()));
    const err = ApplicationFailure.create({
      type: 'HubSpotAuthFailed',
      message: `token ${SECRET} of ${EMAIL} rejected`,
      nonRetryable: true,
    });
    const failure = await encodeErrorToFailure(converter, err);
    expect(failure.message).toBe('Encoded failure');
    expect(failure.stackTrace).toBe('');
    const attrs = failure.encodedAttributes!;
    expect(meta(attrs, 'encoding')).toBe(ENCODING_ENCRYPTED);
    expect(JSON.stringify(failure)).not.toContain(SECRET);
    expect(contains(attrs, SECRET) || contains(attrs, EMAIL)).toBe(false);

    const back = await decodeOptionalFailureToOptionalError(converter, failure);
    expect(back).toBeInstanceOf(ApplicationFailure);
    expect(back!.message).toBe(`token ${SECRET} of ${EMAIL} rejected`);
    expect((back as ApplicationFailure).type).toBe('HubSpotAuthFailed');
  });

  test('values sent to Temporal are encrypted', async () => {
    const converter = loadDataConverter(createDataConverter(configFor()));
    const payload = await encodeToPayload(converter, { email: EMAIL });
    expect(meta(payload, 'encoding')).toBe(ENCODING_ENCRYPTED);
    expect(contains(payload, EMAIL)).toBe(false);
  });

  test('creates the codec key file with mode 0600 (dir 0700) on first use, and reuses it', () => {
    const config = configFor();
    expect(fs.existsSync(config.secrets.codecKeyFile)).toBe(false);
    const first = loadCodecKeyring(config);
    expect(fs.statSync(config.secrets.codecKeyFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(config.secrets.codecKeyFile)).mode & 0o777).toBe(0o700);
    const again = loadCodecKeyring(config);
    expect(again.primaryId).toBe(first.primaryId);
    expect(again.keys.get(first.primaryId)!.equals(first.keys.get(first.primaryId)!)).toBe(true);
    // No leftover temp files next to it.
    expect(fs.readdirSync(path.dirname(config.secrets.codecKeyFile))).toEqual([path.basename(config.secrets.codecKeyFile)]);
  });

  test('does not create keys when not allowed, and says how to provide them', () => {
    const config = configFor();
    expect(() => createDataConverter(config, { createKeys: false })).toThrow(/payload codec key.*does not exist/);
    expect(fs.existsSync(config.secrets.codecKeyFile)).toBe(false);
  });

  test('CODEC_KEYS (env) wins over the key file; its first key is the primary', async () => {
    const k = (b: number) => Buffer.alloc(32, b).toString('base64');
    const config = configFor({ CODEC_KEYS: `new:${k(2)},old:${k(1)}` });
    const ring2 = loadCodecKeyring(config);
    expect(ring2.primaryId).toBe('new');
    expect([...ring2.keys.keys()].sort()).toEqual(['new', 'old']);
    expect(fs.existsSync(config.secrets.codecKeyFile)).toBe(false);
    // Old payloads (written when `old` was primary) decode with the env keyring.
    const oldOnly = parseKeyringValue(`old:${k(1)}`);
    const written = await new EncryptionCodec(oldOnly).encode([payloadOf('kept')]);
    expect(defaultPayloadConverter.fromPayload((await new EncryptionCodec(ring2).decode(written))[0])).toBe('kept');
  });

  test('a malformed CODEC_KEYS value is refused with a clear message', () => {
    expect(() => loadCodecKeyring(configFor({ CODEC_KEYS: 'k1:c2hvcnQ=' }))).toThrow(/not 32 bytes/);
    expect(() => loadCodecKeyring(configFor({ CODEC_KEYS: 'nocolon' }))).toThrow(/id:base64key/);
  });
});
