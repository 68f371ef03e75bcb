// Fails when src/api/schema.d.ts is not what openapi-typescript makes of
// ../openapi/openapi.json today: the API changed and `npm run generate:client`
// was not run (the UI would compile against an API that no longer exists).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const committed = 'src/api/schema.d.ts';
const dir = mkdtempSync(join(tmpdir(), 'itbm-client-'));
try {
  const fresh = join(dir, 'schema.d.ts');
  execFileSync('npx', ['openapi-typescript', '../openapi/openapi.json', '-o', fresh], { stdio: 'ignore' });
  if (readFileSync(fresh, 'utf8') !== readFileSync(committed, 'utf8')) {
    console.error(`${committed} is stale: openapi/openapi.json changed. Run \`npm run generate:client\` in ui/ and commit the result.`);
    process.exit(1);
  }
  console.log(`${committed} matches openapi/openapi.json`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
