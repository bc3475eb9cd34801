import { defineConfig } from 'vite';

// The page is served by src/server (same origin as the API proxy); `base: './'` keeps asset URLs relative.
export default defineConfig({
  root: 'src/client',
  base: './',
  build: { outDir: '../../dist/public', emptyOutDir: true, target: 'es2022', sourcemap: true },
});
