import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The page is served by src/server (same origin as the API proxy); `base: './'` keeps asset URLs relative.
// Paths are anchored at this file, so `vite build --config services/web-app/vite.config.mjs` works from the
// repository root too (the Dockerfile does that).
export default defineConfig({
  root: fileURLToPath(new URL('./src/client', import.meta.url)),
  base: './',
  build: { outDir: fileURLToPath(new URL('./dist/public', import.meta.url)), emptyOutDir: true, target: 'es2022', sourcemap: true },
});
