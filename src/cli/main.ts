/**
 * The CLI (`npx hubspot-destination ...`, or `npm run cli -- ...`): a thin client of the API.
 * Commands live in ./commands; each registers itself on the program.
 */
import { Command } from 'commander';
import { ApiClient, CliError } from './api-client';
import { registerActivationCommands } from './commands/activations';
import { registerDestinationCommands } from './commands/destinations';
import { registerStreamCommands } from './commands/stream';
import { registerConnectionCommands, registerSyncCommands } from './commands/syncs';

export function buildProgram(): Command {
  const program = new Command('hubspot-destination')
    .description('Activate audiences into HubSpot, durably (client of the destination API)')
    .option('--api-url <url>', 'API URL (default: $API_URL or http://localhost:3000)')
    .option('--api-key <key>', 'API key (default: $API_KEY, or the key file npm start writes)')
    .showHelpAfterError();
  const api = () => {
    const o = program.opts<{ apiUrl?: string; apiKey?: string }>();
    return new ApiClient({ apiUrl: o.apiUrl, apiKey: o.apiKey });
  };
  registerDestinationCommands(program, api);
  registerActivationCommands(program, api);
  registerStreamCommands(program, api);
  registerConnectionCommands(program, api);
  registerSyncCommands(program, api);
  return program;
}

export function run(argv: string[] = process.argv): void {
  buildProgram()
    .parseAsync(argv)
    .catch((err: unknown) => {
      console.error(err instanceof CliError || err instanceof Error ? err.message : String(err));
      process.exit(1);
    });
}

if (require.main === module) run();
