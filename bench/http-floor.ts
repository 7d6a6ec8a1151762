/**
 * The least CPU an HTTP API pays per request on this machine: a bare fastify route that answers 202 to
 * the streaming benchmark's load generator (same profiles, same open-loop rate, same client), with no
 * validation, store, signal or log. Set beside `bench/streaming-latency.ts`'s `capacity` figures, it
 * says how much of the stack's CPU per update is the request itself (decision 35).
 *
 *   npx tsx bench/http-floor.ts [--rate 2000] [--duration 20]      # prints JSON
 */
import Fastify from 'fastify';
import { percentiles, runLoadGenerator, type Percentiles } from './streaming-latency';

export interface HttpFloor {
  rate: number;
  requests: number;
  serverCpuMsPerRequest: number;
  serverCoresBusy: number;
  answerMs: Percentiles;
  command: string;
}

export async function measureHttpFloor(rate = 2000, durationSeconds = 20): Promise<HttpFloor> {
  const app = Fastify({ logger: false });
  app.post('/v1/destinations/:id/profiles', async (_req, reply) => reply.status(202).send({ accepted: 1 }));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const cpuBefore = process.cpuUsage();
    const started = Date.now();
    const rows = await runLoadGenerator({
      LOAD_URLS: `${address}/v1/destinations/floor/profiles`,
      LOAD_MODE: 'rate',
      LOAD_RATE: String(rate),
      LOAD_TOTAL: String(rate * durationSeconds),
      LOAD_AUDIENCE_ID: 'floor-audience',
    });
    const used = process.cpuUsage(cpuBefore);
    const cpuSeconds = (used.user + used.system) / 1e6;
    return {
      rate,
      requests: rows.length,
      serverCpuMsPerRequest: Math.round((cpuSeconds / rows.length) * 1e6) / 1000,
      serverCoresBusy: Math.round((cpuSeconds / ((Date.now() - started) / 1000)) * 100) / 100,
      answerMs: percentiles(rows.map((r) => r[4] - r[3])),
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
