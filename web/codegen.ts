// Typed documents from the committed schema: every `.graphql` file under src/ becomes a typed
// `XxxDocument` in src/gql/graphql.ts. `npm run codegen:check` fails when that file is stale.
import type { CodegenConfig } from '@graphql-codegen/cli'

const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: false,
        // How the API's scalars travel in JSON (see their descriptions in schema.graphql).
        scalars: {
          DateTime: 'string',
          Date: 'string',
          Tonnes: 'number',
          Quantity: 'string',
          Ratio: 'string',
          Upload: 'File',
        },
      },
    },
  },
}

export default config
