/**
 * Keys `npm start` needs on a fresh machine: the secrets keyring (seals HubSpot tokens), and — once the
 * security work lands — the payload-codec keys and the API key. Created under DATA_DIR with mode 0600.
 */
import { isLoopbackHost, webUiOrigin } from '../api/codec-access';
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

/**
 * `npm start` lets its own loopback dev Web UI use the codec server without an API key (that UI has no
 * login and cannot send one), unless the operator set CODEC_ALLOW_KEYLESS_UI_ORIGIN or asked for
 * CODEC_REQUIRE_API_KEY. Outside loopback it never does. `notice` is the line npm start prints.
 */
export function devCodecAccess(config: Config, env: NodeJS.ProcessEnv = process.env): { config: Config; notice: string } {
  const explicit = env.CODEC_ALLOW_KEYLESS_UI_ORIGIN !== undefined && env.CODEC_ALLOW_KEYLESS_UI_ORIGIN !== '';
  const ui = webUiOrigin(config);
  const local = isLoopbackHost(config.api.host) && ui !== undefined && isLoopbackHost(new URL(ui).hostname);
  const on = !config.secrets.codecRequireApiKey && local && (explicit ? config.secrets.codecAllowKeylessUiOrigin : true);
  const next = { ...config, secrets: { ...config.secrets, codecAllowKeylessUiOrigin: on } };
  const notice = on
    ? `the local Web UI (${ui}) may decode without an API key (dev only; CODEC_ALLOW_KEYLESS_UI_ORIGIN=false turns it off)`
    : 'needs the API key (CLI: --codec-auth "Bearer <API key>")';
  return { config: next, notice };
}
