/**
 * The data converter shared by every client and worker. Payload encryption (the codec) is configured
 * here so no process can talk to Temporal without it.
 *
 * Codec keys come from CODEC_KEYS (env) or the codec key file (DATA_DIR/keys/codec-keys.json by
 * default). Processes allowed to create keys (API, worker, `npm start`, tests) create the file with
 * one fresh key (mode 0600) when neither exists; in a multi-host deployment give every host the same
 * keys instead, or payloads written on one host cannot be read on another.
 */
import type { DataConverter } from '@temporalio/common';
import type { Config } from '../config';
import { loadKeyring, type Keyring } from '../secrets/keyring';
import { EncryptionCodec } from './codec';

/** Module with the `failureConverter` export; also pass it to `bundleWorkflowCode` when pre-bundling. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

export interface DataConverterOptions {
  /** Create the codec key file if no key is configured (default true: every caller is a server process). */
  createKeys?: boolean;
  /** Use this keyring instead of the configured one (tests). */
  keyring?: Keyring;
}

export function loadCodecKeyring(config: Config, options: { createKeys?: boolean } = {}): Keyring {
  return loadKeyring({
    value: config.secrets.codecKeys,
    file: config.secrets.codecKeyFile,
    createIfMissing: options.createKeys ?? true,
    purpose: 'payload codec',
  });
}

export function createCodec(config: Config, options: DataConverterOptions = {}): EncryptionCodec {
  return new EncryptionCodec(options.keyring ?? loadCodecKeyring(config, options));
}

export function createDataConverter(config: Config, options: DataConverterOptions = {}): DataConverter {
  return {
    payloadCodecs: [createCodec(config, options)],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}
