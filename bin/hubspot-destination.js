#!/usr/bin/env node
// CLI entry for `npx hubspot-destination ...`: runs the TypeScript CLI through tsx.
require('tsx/cjs');
require('../src/cli/main.ts').run();
