// ESLint for every TypeScript file in the repository (flat config).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
// The web app's block (frontend/) below.
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import reactHooks from "eslint-plugin-react-hooks";

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      "**/node_modules/**",
      "artifacts/**",
      "cache/**",
      "typechain-types/**",
      "coverage/**",
      ".coverage/**",
      "**/dist/**",
      "frontend/src/contracts/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.{ts,tsx,mts}"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // Chai's property assertions (`expect(x).to.be.true`) are expressions by design.
      "@typescript-eslint/no-unused-expressions": "off",
    },
  },
  {
    // Plain Node.js scripts (CommonJS).
    files: ["**/*.{js,cjs}"],
    languageOptions: {
      sourceType: "commonjs",
      globals: {
        require: "readonly",
        module: "writable",
        process: "readonly",
        console: "readonly",
        __dirname: "readonly",
        fetch: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
      },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  // ---------------------------------------------------------------------------------------------
  // The web app (frontend/): React's rules of hooks and the React Compiler's checks
  // (eslint-plugin-react-hooks, recommended), and no import cycle between its modules.
  {
    files: ["frontend/**/*.{ts,tsx}"],
    plugins: { "react-hooks": reactHooks, "import-x": importX },
    settings: {
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".tsx", ".js", ".mjs", ".json"] })],
    },
    rules: {
      ...reactHooks.configs["recommended-latest"].rules,
      "import-x/no-cycle": "error",
    },
  },
  // ---------------------------------------------------------------------------------------------
);
