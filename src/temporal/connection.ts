/**
 * Connections to Temporal for clients (API, CLI, tests) and workers, from the one config object:
 * a local dev server by default, or any cluster / Temporal Cloud (address, namespace, API key or mTLS).
 */
import fs from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config';
import { createDataConverter } from './data-converter';

export function temporalAddress(config: Config): string {
  return config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;
}

function tlsOptions(config: Config): ConnectionOptions['tls'] {
  const t = config.temporal;
  if (t.tlsCertPath && t.tlsKeyPath) {
    return { clientCertPair: { crt: fs.readFileSync(t.tlsCertPath), key: fs.readFileSync(t.tlsKeyPath) } };
  }
  return t.tls ? true : undefined;
}

export async function connectClient(config: Config, options: { dataConverter?: DataConverter } = {}): Promise<Client> {
  const connection = await Connection.connect({
    address: temporalAddress(config),
    tls: tlsOptions(config),
    apiKey: config.temporal.apiKey,
  });
  return new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: options.dataConverter ?? createDataConverter(config),
  });
}

export async function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect({
    address: temporalAddress(config),
    tls: tlsOptions(config),
    apiKey: config.temporal.apiKey,
  });
}
