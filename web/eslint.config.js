// eslint for the console: Vue's recommended rules and typescript-eslint's, with `any` refused.
import { defineConfigWithVueTs, vueTsConfigs } from '@vue/eslint-config-typescript'
import pluginVue from 'eslint-plugin-vue'

export default defineConfigWithVueTs(
  { ignores: ['src/gql/**', 'node_modules/**', '../api/static/**'] },
  pluginVue.configs['flat/recommended'],
  vueTsConfigs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // Formatting is left to the code's authors; these rules only concern layout.
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      // Hard-coded text in templates: every string a user reads comes from the messages.
      'vue/no-bare-strings-in-template': ['error', { allowlist: ['—', '·', '→', '/', '–', 'R²', '(', ')', ':'] }],
    },
  },
)
