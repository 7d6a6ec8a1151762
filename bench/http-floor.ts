/**
 * The least CPU an HTTP API pays per request on this machine: a bare fastify route that answers 202 to
 * the streaming benchmark's load generator (same profiles, same open-loop rate, same client), with no
 * validation, store, signal or log. Set beside `bench/streaming-latency.ts`'s `capacity` figures, it
 * says how much of the stack's CPU per update is the request itself (decision 35).
 *
 *   npx tsx bench/http-floor.ts [--rate 2000] [--duration 20]      # prints JSON
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import Fastify from 'fastify';
import type { LoadRow } from './streaming-load-generator';

export interface HttpFloor {
  rate: number;
  requests: number;
  serverCpuMsPerRequest: number;
  serverCoresBusy: number;
  answerMs: { p50: number; p99: number };
  command: string;
}

export async function measureHttpFloor(rate = 2000, durationSeconds = 20): Promise<HttpFloor> {
  const app = Fastify({ logger: false });
  app.post('/v1/destinations/:id/profiles', async (_req, reply) => reply.status(202).send({ accepted: 1 }));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const cpuBefore = process.cpuUsage();
    const started = Date.now();
    const rows = await new Promise<LoadRow[]>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'streaming-load-generator.ts')], {
        env: {
          ...process.env,
          LOAD_URLS: `${address}/v1/destinations/floor/profiles`,
          LOAD_API_KEY: 'unused',
          LOAD_MODE: 'rate',
          LOAD_RATE: String(rate),
          LOAD_TOTAL: String(rate * durationSeconds),
          LOAD_AUDIENCE_ID: 'floor-audience',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => chunks.push(d));
      child.once('error', reject);
      child.once('exit', (code) =>
        code === 0
          ? resolve((JSON.parse(Buffer.concat(chunks).toString()) as { requests: LoadRow[] }).requests)
          : reject(new Error(`load generator exited with ${code}`)),
      );
    });
    const used = process.cpuUsage(cpuBefore);
    const cpuSeconds = (used.user + used.system) / 1e6;
    const answers = rows.map((r) => r[4] - r[3]).sort((a, b) => a - b);
    const at = (q: number) => answers[Math.min(answers.length - 1, Math.ceil(q * answers.length) - 1)];
    return {
      rate,
      requests: rows.length,
      serverCpuMsPerRequest: Math.round((cpuSeconds / rows.length) * 1e6) / 1000,
      serverCoresBusy: Math.round((cpuSeconds / ((Date.now() - started) / 1000)) * 100) / 100,
      answerMs: { p50: at(0.5), p99: at(0.99) },
      command: `npx tsx bench/http-floor.ts --rate ${rate} --duration ${durationSeconds}`,
    };
  } finally {
    await app.close();
  }
}

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : undefined;
}

if (require.main === module) {
  measureHttpFloor(arg('rate'), arg('duration'))
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
