/**
 * API keys for the client API. Source: API_KEYS (comma-separated) or the key file (config.api.keyFile,
 * DATA_DIR/api-key by default): one key per line, blank lines and `#` comments ignored, the first line
 * is the key local clients (CLI, `npm start`) use. Several keys let a key rotate without downtime.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';

export const API_KEY_PREFIX = 'hsd_';

export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${crypto.randomBytes(32).toString('base64url')}`;
}

export function parseApiKeyFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

export function readApiKeyFile(file: string): string[] {
  try {
    return parseApiKeyFile(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The keys the API accepts: API_KEYS when set, else the key file's keys (none if it does not exist). */
export function loadApiKeys(config: Config): string[] {
  return config.api.keys.length ? config.api.keys : readApiKeyFile(config.api.keyFile);
}

export interface EnsuredApiKey {
  /** The key local clients should send. */
  key: string;
  source: 'env' | 'file';
  file: string;
  /** True when this call generated the key (first run). */
  created: boolean;
}

/** Like `ensureApiKey`, and says where the key came from and whether it is new (for `npm start`'s banner). */
export function ensureApiKeyDetailed(config: Config): EnsuredApiKey {
  const file = config.api.keyFile;
  if (config.api.keys.length) return { key: config.api.keys[0], source: 'env', file, created: false };
  const existing = readApiKeyFile(file);
  if (existing.length) return { key: existing[0], source: 'file', file, created: false };
  const key = generateApiKey();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Temp file + link: a concurrent first start keeps exactly one key, and nobody reads a partial file.
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, `${key}\n`, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(tmp, file);
    return { key, source: 'file', file, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const theirs = readApiKeyFile(file);
    if (!theirs.length) throw new Error(`The API key file ${file} exists but holds no key; put a key on its first line or delete it.`);
    return { key: theirs[0], source: 'file', file, created: false };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * The API key local clients use: the first of API_KEYS, else the key file's first key; creates the key
 * file (random key, mode 0600) when neither exists. `npm start` calls it to print the key.
 */
export function ensureApiKey(config: Config): string {
  return ensureApiKeyDetailed(config).key;
}
