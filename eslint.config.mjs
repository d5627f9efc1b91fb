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
    // One module graph without cycles, and files a reader can hold in mind: no source file over 600
    // lines (tests and generated code excepted).
    files: ["**/*.{ts,tsx,mts}"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": [".ts", ".tsx", ".mts", ".js"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts", ".tsx", ".mts"] },
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".tsx", ".mts", ".js", ".json"] })],
    },
    rules: {
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "max-lines": ["error", { max: 600, skipBlankLines: false, skipComments: false }],
    },
  },
  {
    files: ["**/test/**", "**/e2e/**", "**/*.test.{ts,tsx}", "bench/**", "offchain/src/generated/**"],
    rules: { "max-lines": "off" },
  },
  {
    // The node package users install holds no dev harness: nothing in it imports the devnet (devnet/).
    files: ["node/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["**/devnet/**"], message: "devnet/ is npm start's harness, not part of the node package" },
          ],
        },
      ],
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
