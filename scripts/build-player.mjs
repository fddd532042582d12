// Compiles the browser player SDK (player/sdk → player/dist/sdk.js) with its own tsconfig (lib DOM).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (existsSync('player/tsconfig.player.json')) {
  execFileSync('npx', ['tsc', '-p', 'player/tsconfig.player.json'], { stdio: 'inherit' });
}
