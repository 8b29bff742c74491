/**
 * The console's build: static files in console/dist that any web server can
 * host; each agent serves them at `/`. `base: './'` keeps every asset path
 * relative, so the same build also works under a sub-path of another host.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [solid()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // One small app: a single chunk loads fastest from an appliance on the LAN.
    chunkSizeWarningLimit: 400,
    // The Solid transform is most of a build on two cores; that is expected, not worth a warning at every npm install.
    rolldownOptions: { checks: { pluginTimings: false } },
  },
});
