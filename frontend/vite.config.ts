import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// In development the API runs on `tailor serve` (127.0.0.1:8080); the dev server proxies it.
export default defineConfig({
  plugins: [react()],
  server: { proxy: { "/v1": "http://127.0.0.1:8080", "/readyz": "http://127.0.0.1:8080" } },
  test: { environment: "jsdom" },
});
