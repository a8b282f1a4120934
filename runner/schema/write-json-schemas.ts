/** `npm run schemas`: regenerate schemas/*.json from the zod contracts. */
import { writeFileSync } from 'node:fs';
import { SCHEMA_FILES } from './json-schemas.ts';

for (const [path, make] of Object.entries(SCHEMA_FILES)) {
  writeFileSync(path, JSON.stringify(make(), null, 2) + '\n');
  console.log(`wrote ${path}`);
}
