/**
 * Creates, on a fresh machine, every key a local stack needs (each only if it is not configured): the
 * secrets keyring (seals HubSpot tokens), the payload-codec keyring and the API key, under DATA_DIR with
 * mode 0600. `npm start` calls it before anything else and prints the API key and codec endpoint.
 */
import type { Config } from '../config';
import { loadCodecKeyring } from '../temporal/data-converter';
import { ensureApiKeyDetailed, type EnsuredApiKey } from './api-keys';
import { loadKeyring } from './keyring';

export interface EnsuredKeys {
  apiKey: EnsuredApiKey;
  /** Primary codec key id (not the key). */
  codecKeyId: string;
  /** What to pass to `temporal server start-dev --ui-codec-endpoint`. */
  codecEndpoint: string;
}

export function codecEndpointUrl(config: Config): string {
  return `${config.api.url.replace(/\/+$/, '')}/codec`;
}

export function ensureKeys(config: Config): EnsuredKeys {
  loadKeyring({ file: config.secrets.secretsKeyFile, createIfMissing: true, purpose: 'secrets' });
  const codec = loadCodecKeyring(config, { createKeys: true });
  return { apiKey: ensureApiKeyDetailed(config), codecKeyId: codec.primaryId, codecEndpoint: codecEndpointUrl(config) };
}
