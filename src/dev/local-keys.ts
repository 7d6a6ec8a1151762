/**
 * Keys `npm start` needs on a fresh machine: the secrets keyring (seals HubSpot tokens), and — once the
 * security work lands — the payload-codec keys and the API key. Created under DATA_DIR with mode 0600.
 */
import type { Config } from '../config';
import { ensureKeys } from '../secrets/local-keys';

export interface LocalKeys {
  apiKey: string;
  codecEndpoint?: string;
}

export function prepareLocalKeys(config: Config): LocalKeys {
  // Secrets keyring, codec keys and API key (src/secrets/local-keys.ts); the Web UI decodes via the API's codec server.
  const keys = ensureKeys(config);
  return { apiKey: keys.apiKey.key, codecEndpoint: keys.codecEndpoint };
}
